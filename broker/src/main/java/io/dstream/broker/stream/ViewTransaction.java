package io.dstream.broker.stream;

/**
 * What a {@link ViewStep} sees of its subject and may write. Valid only while the step runs. The
 * numbers include writes queued but not yet durable, so consecutive steps build on each other.
 */
public interface ViewTransaction {

  /** Last assigned sequence (0 when the subject never had a message). */
  long lastSequence();

  /** The view attributes as of the last queued write (empty when no view claimed the subject). */
  byte[] attributes();

  /** Queues a message with raw payload bytes; returns its sequence. */
  long append(byte[] payload);

  /** Queues new view attributes. */
  void putAttributes(byte[] attributes);

  /** Queues the deletion of every retained message (the sequence counter keeps growing). */
  void deleteAll();
}
