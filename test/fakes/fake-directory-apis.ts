import { FakeHttpServer, genericFailure, type RecordedRequest, type Reply } from './fake-http-server';

/**
 * Fake contact directories (通讯录) of WeCom and DingTalk on 127.0.0.1, with the official request and
 * response shapes; tests edit `depts` and `users` between reads.
 *
 * WeCom (point WECOM_API_BASE here): GET /cgi-bin/gettoken?corpid&corpsecret → {errcode, access_token, expires_in};
 * GET /cgi-bin/department/list?access_token → {errcode, errmsg, department:[{id, name, parentid, order, department_leader}]};
 * GET /cgi-bin/user/list?access_token&department_id → {errcode, errmsg, userlist:[{userid, name, department, main_department, status}]}
 * (members directly in that department; status 1 active, 5 left). A wrong token answers 40014.
 *
 * DingTalk (point DINGTALK_API_BASE and DINGTALK_OAPI_BASE here): POST /v1.0/oauth2/accessToken {appKey, appSecret}
 * → {accessToken, expireIn}; POST /topapi/v2/department/get?access_token {dept_id} → {errcode, result:{dept_id, name, parent_id, dept_manager_userid_list}};
 * POST /topapi/v2/department/listsub {dept_id} → {errcode, result:[{dept_id, name, parent_id}]};
 * POST /topapi/v2/user/list {dept_id, cursor, size} → {errcode, result:{has_more, next_cursor, list:[{userid, name, dept_id_list, leader}]}}
 * (pages of `size`, at most 100). A wrong token answers errcode 88 / 40014.
 */
export interface FakeDept {
  id: number;
  name: string;
  parentId?: number;
  leaders?: string[];
}
export interface FakeUser {
  userid: string;
  name: string;
  depts: number[];
  /** WeCom status: 1 active (default), 5 left. */
  status?: number;
}

export class FakeDirectoryApi extends FakeHttpServer {
  depts: FakeDept[] = [];
  users: FakeUser[] = [];
  private readonly token = 'dir-token-1';

  constructor(private readonly creds: { corpId: string; corpSecret: string; appKey: string; appSecret: string }) {
    super((req, failure) => (failure ? (genericFailure(failure) ?? { status: 500 }) : this.answer(req)));
  }

  private answer(req: RecordedRequest): Reply {
    const body = (req.body ?? {}) as Record<string, unknown>;
    const ok = (extra: Record<string, unknown>) => ({ status: 200, json: { errcode: 0, errmsg: 'ok', ...extra } });
    switch (req.path) {
      case '/cgi-bin/gettoken':
        if (req.query.corpid !== this.creds.corpId || req.query.corpsecret !== this.creds.corpSecret) return { status: 200, json: { errcode: 40001, errmsg: 'invalid credential' } };
        return ok({ access_token: this.token, expires_in: 7200 });
      case '/v1.0/oauth2/accessToken':
        if (body.appKey !== this.creds.appKey || body.appSecret !== this.creds.appSecret) return { status: 400, json: { code: 'invalidClientIdOrSecret', message: 'bad' } };
        return { status: 200, json: { accessToken: this.token, expireIn: 7200 } };
    }
    if (req.query.access_token !== this.token) return { status: 200, json: { errcode: 40014, errmsg: 'invalid access_token' } };
    switch (req.path) {
      case '/cgi-bin/department/list':
        return ok({ department: this.depts.map((d, i) => ({ id: d.id, name: d.name, parentid: d.parentId ?? 0, order: i, department_leader: d.leaders ?? [] })) });
      case '/cgi-bin/user/list': {
        const id = Number(req.query.department_id);
        return ok({
          userlist: this.users
            .filter((u) => u.depts.includes(id))
            .map((u) => ({ userid: u.userid, name: u.name, department: u.depts, main_department: u.depts[0], status: u.status ?? 1 })),
        });
      }
      case '/topapi/v2/department/get': {
        const d = this.depts.find((x) => x.id === Number(body.dept_id));
        if (!d) return { status: 200, json: { errcode: 60003, errmsg: 'department not found' } };
        return ok({ result: { dept_id: d.id, name: d.name, ...(d.parentId !== undefined ? { parent_id: d.parentId } : {}), dept_manager_userid_list: d.leaders ?? [] } });
      }
      case '/topapi/v2/department/listsub':
        return ok({ result: this.depts.filter((d) => d.parentId === Number(body.dept_id)).map((d) => ({ dept_id: d.id, name: d.name, parent_id: d.parentId })) });
      case '/topapi/v2/user/list': {
        const id = Number(body.dept_id);
        const size = Math.min(Number(body.size ?? 100), 100);
        const cursor = Number(body.cursor ?? 0);
        const all = this.users.filter((u) => u.depts.includes(id) && (u.status ?? 1) === 1);
        const page = all.slice(cursor, cursor + size);
        const more = cursor + size < all.length;
        const leaders = this.depts.find((d) => d.id === id)?.leaders ?? [];
        return ok({
          result: {
            has_more: more,
            ...(more ? { next_cursor: cursor + size } : {}),
            list: page.map((u) => ({ userid: u.userid, name: u.name, dept_id_list: u.depts, leader: leaders.includes(u.userid) })),
          },
        });
      }
    }
    return { status: 404, json: { errcode: 404, errmsg: 'no such endpoint' } };
  }
}

export async function startFakeDirectoryApi(creds: { corpId: string; corpSecret: string; appKey: string; appSecret: string }): Promise<FakeDirectoryApi> {
  const f = new FakeDirectoryApi(creds);
  await f.listen();
  return f;
}
