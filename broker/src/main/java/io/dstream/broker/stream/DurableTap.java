package io.dstream.broker.stream;

import java.util.List;

/**
 * Hears of every message the moment it is durable, on any subject: how live subscribers that are
 * not bound to one subject (NATS core subscriptions, with wildcards, to subjects that may not
 * exist yet) get what is stored. A message is tapped if the tap listened to its subject when it was
 * appended; an actor keeps such messages until their batch is durable. State changes are told
 * the same way (NATS state watches), every one, whoever listens.
 */
public interface DurableTap {

  /** Whether anything listens to {@code subject} now; called for every append, so it must be cheap. */
  boolean listening(String subject);

  /** {@code messages} of {@code subject} just became durable, in sequence order. Runs on the subject's actor context. */
  void durable(String subject, List<Published> messages);

  /**
   * The state of {@code subject} is durably {@code stateJson} at {@code revision}: each change once,
   * in revision order; a destroyed subject's is {@code {}} at revision 0. Runs on the subject's actor
   * context.
   */
  void stateChanged(String subject, byte[] stateJson, long revision);
}
