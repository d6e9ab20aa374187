package io.dstream.broker.stream;

/**
 * Someone bound to one subject who follows its state object (a protocol v1 socket after
 * {@code watchState}). Called on the subject's actor context; must not block.
 */
public interface StateWatcher {

  /**
   * The state at {@code revision}: first the current one when the watch starts, then each change
   * once it is durable, in revision order.
   */
  void state(byte[] stateJson, long revision);

  /** The subject was destroyed: its state starts again at revision 0, and the watch has ended. */
  void stateDestroyed();
}
