/**
 * 3.5.1, 3.5.3: when the client cannot proceed or drops out, the salesperson is told at once and the
 * evidence is kept. Other cancellations (a duplicate order, a typing mistake) need no evidence.
 * Pure: reads the reason the user wrote.
 */
const CLIENT = /客户|对方|甲方/;
const DROP_OUT = /退出|不再|不做|不办|放弃|终止|无法(继续|办理|配合|提供)|不能(继续|办理)|撤回|撤销|取消(申请|合作|委托)|不申请|不想|退款|解约|暂不/;

export function isClientDropOut(reason: string | null | undefined): boolean {
  if (!reason) return false;
  return CLIENT.test(reason) && DROP_OUT.test(reason);
}
