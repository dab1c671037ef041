import { DingtalkSender } from '../../src/platforms/dingtalk/dingtalk-sender';
import { WecomSender } from '../../src/platforms/wecom/wecom-sender';
import { startFakeDingtalkApi, type FakeDingtalkApi } from '../fakes/fake-dingtalk-api';
import { startFakeWecomApi, type FakeWecomApi } from '../fakes/fake-wecom-api';
import { testConfig } from './platform-test-kit';

/**
 * Both fake platforms on loopback with a WeCom and a DingTalk sender configured against them (app,
 * group robot and OpenAPI credentials): the setup of the outbound channel tests.
 */
export async function startFakePlatforms(opts: {
  clock: () => Date;
  webhookKey: string;
  dingtalkRobot: { token: string; secret: string };
  wecomUsers: string[];
  dingtalkStaff: string[];
}): Promise<{ wecom: FakeWecomApi; dingtalk: FakeDingtalkApi; ws: WecomSender; ds: DingtalkSender; close(): Promise<void> }> {
  const wecom = await startFakeWecomApi({ corpId: 'ww-corp', corpSecret: 'corp-secret', webhookKeys: [opts.webhookKey], agentId: 1000007, users: opts.wecomUsers });
  const dingtalk = await startFakeDingtalkApi({
    robots: { [opts.dingtalkRobot.token]: opts.dingtalkRobot.secret },
    appKey: 'dingappkey',
    appSecret: 'dingappsecret',
    staff: opts.dingtalkStaff,
    now: () => opts.clock().getTime(),
  });
  const config = testConfig({
    WECOM_API_BASE: wecom.baseUrl,
    WECOM_CORP_ID: 'ww-corp',
    WECOM_CORP_SECRET: 'corp-secret',
    WECOM_AGENT_ID: '1000007',
    DINGTALK_OAPI_BASE: dingtalk.baseUrl,
    DINGTALK_API_BASE: dingtalk.baseUrl,
    DINGTALK_APP_KEY: 'dingappkey',
    DINGTALK_APP_SECRET: 'dingappsecret',
  });
  return {
    wecom,
    dingtalk,
    ws: new WecomSender(config, { clock: opts.clock }),
    ds: new DingtalkSender(config, { clock: opts.clock }),
    async close() {
      await wecom.close();
      await dingtalk.close();
    },
  };
}
