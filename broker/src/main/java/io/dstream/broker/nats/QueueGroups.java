package io.dstream.broker.nats;

import java.util.Set;

/**
 * Which queue groups a node delivers one core message to, so that a group with members on several
 * nodes gets the message once in the whole cluster: the groups {@code named}, or, when
 * {@code others} is set, every group but those named (the message's own node, and a node that
 * announced too many queue subscriptions to list them, see {@link PeerInterests}).
 */
record QueueGroups(boolean others, Set<String> named) {

  /** Every group that matches: the node the message starts from. */
  static final QueueGroups ALL = new QueueGroups(true, Set.of());
  /** No group: a node that gets the message for its plain subscriptions only. */
  static final QueueGroups NONE = new QueueGroups(false, Set.of());

  boolean serves(String group) {
    return others != named.contains(group);
  }
}
