package io.dstream.broker.stream;

/**
 * How a protocol view renders the stored JSON object of a publish once the actor has assigned its
 * sequence (the sequence is part of the stored object in protocol v1).
 */
@FunctionalInterface
public interface MessageTemplate {

  /** The stored object's JSON for {@code sequence}; must be a JSON object. */
  String render(long sequence);
}
