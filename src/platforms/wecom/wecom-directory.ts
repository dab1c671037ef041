import { PlatformApiError } from '../../core/errors';
import type { DirectoryDepartment, DirectoryMember, DirectorySource } from '../../features/directory';
import type { Clock } from '../clock';
import type { PlatformConfig } from '../config-schema';
import { fetchJson } from '../http/fetch-json';
import { TokenCache } from '../token-cache';

/**
 * WeCom contact API (通讯录管理, docs path/90208 获取部门列表, path/90201 获取部门成员详情):
 *   GET /cgi-bin/department/list?access_token=… → {errcode, department:[{id, name, parentid, department_leader:[userid]}]}
 *   GET /cgi-bin/user/list?access_token=…&department_id=ID → {errcode, userlist:[{userid, name, department:[id], main_department, status}]}
 * status 1 = active; 2 disabled, 4 not yet activated, 5 left: only status 1 counts as in the firm.
 * The token comes from GET /cgi-bin/gettoken?corpid&corpsecret (the app needs read access to the contacts).
 */
export class WecomDirectory implements DirectorySource {
  readonly platform = 'wecom';
  private readonly tokens: TokenCache;

  constructor(
    private readonly config: PlatformConfig,
    clock: Clock,
  ) {
    this.tokens = new TokenCache(async () => {
      const r = await this.get(`/cgi-bin/gettoken?corpid=${encodeURIComponent(config.WECOM_CORP_ID!)}&corpsecret=${encodeURIComponent(config.WECOM_CORP_SECRET!)}`, 'gettoken');
      return { token: String(r.access_token), expiresInSec: Number(r.expires_in ?? 7200) };
    }, clock);
  }

  private async get(path: string, method: string): Promise<Record<string, unknown>> {
    const res = await fetchJson(`${this.config.WECOM_API_BASE}${path}`, { method: 'GET', timeoutMs: this.config.PLATFORM_HTTP_TIMEOUT_MS });
    const body = (res.body ?? {}) as Record<string, unknown>;
    const errcode = Number(body.errcode ?? 0);
    if (errcode !== 0) throw new PlatformApiError('wecom', method, errcode, String(body.errmsg ?? ''), errcode === 42001 || errcode === 40014 || errcode === -1);
    return body;
  }

  private async call(path: string, method: string): Promise<Record<string, unknown>> {
    const token = await this.tokens.get();
    const sep = path.includes('?') ? '&' : '?';
    try {
      return await this.get(`${path}${sep}access_token=${encodeURIComponent(token)}`, method);
    } catch (err) {
      if (err instanceof PlatformApiError && (err.errcode === 42001 || err.errcode === 40014)) {
        const fresh = await this.tokens.refresh(token);
        return this.get(`${path}${sep}access_token=${encodeURIComponent(fresh)}`, method);
      }
      throw err;
    }
  }

  async read() {
    const d = await this.call('/cgi-bin/department/list', 'department/list');
    const departments: DirectoryDepartment[] = ((d.department ?? []) as { id: number; name: string; parentid?: number; department_leader?: string[] }[]).map((x) => ({
      id: String(x.id),
      name: x.name,
      ...(x.parentid !== undefined ? { parentId: String(x.parentid) } : {}),
      leaders: x.department_leader ?? [],
    }));
    const members = new Map<string, DirectoryMember>();
    for (const dept of departments) {
      const u = await this.call(`/cgi-bin/user/list?department_id=${encodeURIComponent(dept.id)}`, 'user/list');
      for (const m of (u.userlist ?? []) as { userid: string; name: string; department?: number[]; main_department?: number; status?: number }[]) {
        if (m.status !== undefined && m.status !== 1) continue;
        if (members.has(m.userid)) continue;
        const ids = (m.department ?? []).map(String);
        const main = m.main_department !== undefined ? String(m.main_department) : ids[0];
        members.set(m.userid, { userid: m.userid, name: m.name, departmentIds: main ? [main, ...ids.filter((i) => i !== main)] : ids });
      }
    }
    return { platform: 'wecom', departments, members: [...members.values()] };
  }
}
