export {
  COMPLAINT_CHANNELS,
  CHANNEL_NAMES,
  COMPLAINT_LEVELS,
  COMPLAINT_EVENTS,
  COMPLAINT_FLAGS,
  complaintPlaybookSchema,
  parseComplaintPlaybook,
  loadComplaintPlaybook,
  ComplaintPlaybookError,
  DEFAULT_COMPLAINT_PLAYBOOK_DOCUMENT,
  type ComplaintChannel,
  type ComplaintLevel,
  type ComplaintEvent,
  type ComplaintFlag,
  type ComplaintRule,
  type ComplaintRuleInput,
  type ComplaintPlaybook,
  type FeeShareRatio,
  type RateReview,
} from './complaint-playbook';
export {
  complaintCode,
  complaintRuleApplies,
  complaintRulesStartedBy,
  complaintRulesStoppedBy,
  closeBlockers,
  CLOSE_CONDITION,
  LEVEL_ROLES,
  type ComplaintFacts,
  type ComplaintState,
} from './complaint-rules';
export { proposeLevel, type LevelProposal } from './level-proposal';
export { parseReceivedAt, type ReceivedAt } from './received-at';
export { splitOfficialFee, parseYuan, formatFen, type FeeShares } from './fee-split';
export { complaintRate, formatRate, rateReviewAt, type ComplaintRate } from './complaint-rate';
export { buildComplaintReminder, type ComplaintReminderInput } from './reminder-text';
