import { PartialDeliveryError } from '../core/errors';
import { safeErrorMessage } from '../log';

/** One part to send and how (the channel may change part by part: response_url, then the webhook …). */
export interface PartStep {
  /** The labelled part, as kept for a later retry if this step is not reached. */
  part: string;
  post: () => Promise<void>;
}

/**
 * Send the parts of one message in order. A failure on the first part is the send's failure (nothing
 * arrived; a retry starts again). A failure later is a PartialDeliveryError carrying the parts not
 * yet delivered, so the outbox keeps exactly those and the group never gets the start twice.
 */
export async function sendParts(steps: PartStep[]): Promise<void> {
  for (const [i, step] of steps.entries()) {
    try {
      await step.post();
    } catch (err) {
      if (i === 0) throw err;
      const retryable = (err as { retryable?: unknown }).retryable !== false;
      throw new PartialDeliveryError(i, steps.slice(i).map((s) => s.part), retryable, safeErrorMessage(err), { cause: err });
    }
  }
}

/** Parts that no channel can take now (a single-use channel is spent): kept as failed, never dropped. */
export function noChannelForRest(delivered: number, rest: string[], reason: string, partsMarkdown: boolean): PartialDeliveryError {
  return new PartialDeliveryError(delivered, rest, false, reason, { partsMarkdown });
}
