export {
  startTimer,
  pauseTimer,
  resumeTimer,
  completeTimer,
  cancelTimer,
  closeWithOrder,
  shiftByDuration,
  timerSchema,
  TIMER_STATES,
  TIMER_CLOCKS,
  type Timer,
  type TimerState,
  type TimerClock,
  type StartFacts,
} from './timer';
export { ladder, dueSteps, markStepsSent, mayNotifyAt, nextWakeUp, QUIET_HOURS_GRACE_MS, type LadderStep } from './ladder';
export { nextOccurrence, nextCronOccurrence, type NonWorkingDayPolicy } from './next-occurrence';
