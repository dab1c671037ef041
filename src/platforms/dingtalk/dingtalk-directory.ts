import { PlatformApiError } from '../../core/errors';
import type { DirectoryDepartment, DirectoryMember, DirectorySource } from '../../features/directory';
import type { Clock } from '../clock';
import type { PlatformConfig } from '../config-schema';
import { fetchJson } from '../http/fetch-json';
import { TokenCache } from '../token-cache';

/**
 * DingTalk contact API (通讯录管理, oapi.dingtalk.com):
 *   POST /topapi/v2/department/listsub?access_token=… {dept_id} → {errcode, result:[{dept_id, name, parent_id}]} (one level; walked from 1)
 *   POST /topapi/v2/department/get {dept_id} → {errcode, result:{dept_id, name, dept_manager_userid_list}}
 *   POST /topapi/v2/user/list {dept_id, cursor, size ≤ 100} → {errcode, result:{has_more, next_cursor, list:[{userid, name, dept_id_list, leader}]}}
 * The token is the app's (POST api.dingtalk.com/v1.0/oauth2/accessToken {appKey, appSecret}); it is
 * accepted by the oapi endpoints too.
 */
export class DingtalkDirectory implements DirectorySource {
  readonly platform = 'dingtalk';
  private readonly tokens: TokenCache;

  constructor(
    private readonly config: PlatformConfig,
    clock: Clock,
  ) {
    this.tokens = new TokenCache(async () => {
      const res = await fetchJson(`${config.DINGTALK_API_BASE}/v1.0/oauth2/accessToken`, {
        method: 'POST',
        body: { appKey: config.DINGTALK_APP_KEY, appSecret: config.DINGTALK_APP_SECRET },
        timeoutMs: config.PLATFORM_HTTP_TIMEOUT_MS,
      });
      const b = (res.body ?? {}) as { accessToken?: string; expireIn?: number; code?: string; message?: string };
      if (!b.accessToken) throw new PlatformApiError('dingtalk', 'oauth2/accessToken', b.code ?? res.status, b.message ?? '', false);
      return { token: b.accessToken, expiresInSec: b.expireIn ?? 7200 };
    }, clock);
  }

  private async call(path: string, body: unknown): Promise<Record<string, unknown>> {
    const token = await this.tokens.get();
    const res = await fetchJson(`${this.config.DINGTALK_OAPI_BASE}${path}?access_token=${encodeURIComponent(token)}`, {
      method: 'POST',
      body,
      timeoutMs: this.config.PLATFORM_HTTP_TIMEOUT_MS,
    });
    const b = (res.body ?? {}) as Record<string, unknown>;
    const errcode = Number(b.errcode ?? 0);
    if (errcode !== 0) throw new PlatformApiError('dingtalk', path, errcode, String(b.errmsg ?? ''), false);
    return b;
  }

  async read() {
    const departments: DirectoryDepartment[] = [];
    const queue = ['1'];
    const seen = new Set<string>();
    while (queue.length) {
      const id = queue.shift()!;
      if (seen.has(id)) continue;
      seen.add(id);
      const got = (await this.call('/topapi/v2/department/get', { dept_id: Number(id) })).result as { name?: string; parent_id?: number; dept_manager_userid_list?: string[] } | undefined;
      departments.push({ id, name: got?.name ?? id, ...(got?.parent_id !== undefined ? { parentId: String(got.parent_id) } : {}), leaders: got?.dept_manager_userid_list ?? [] });
      const subs = ((await this.call('/topapi/v2/department/listsub', { dept_id: Number(id) })).result ?? []) as { dept_id: number }[];
      for (const s of subs) queue.push(String(s.dept_id));
    }
    const members = new Map<string, DirectoryMember>();
    for (const dept of departments) {
      let cursor = 0;
      for (let page = 0; page < 1000; page++) {
        const r = (await this.call('/topapi/v2/user/list', { dept_id: Number(dept.id), cursor, size: 100 })).result as
          | { has_more?: boolean; next_cursor?: number; list?: { userid: string; name: string; dept_id_list?: number[] }[] }
          | undefined;
        for (const m of r?.list ?? []) {
          if (!members.has(m.userid)) members.set(m.userid, { userid: m.userid, name: m.name, departmentIds: (m.dept_id_list ?? [Number(dept.id)]).map(String) });
        }
        if (!r?.has_more || r.next_cursor === undefined) break;
        cursor = r.next_cursor;
      }
    }
    return { platform: 'dingtalk', departments, members: [...members.values()] };
  }
}
