package io.dstream.broker.stream;

/**
 * A read-only picture of one subscriber's consumer, for operators (the admin API): where it is, how
 * full its ack window is and how often it needed redeliveries.
 *
 * @param subscriber   who subscribed, as the protocol view describes it ({@link Subscriber#description()})
 * @param nextSequence the next sequence never delivered to it
 * @param pending      deliveries sent and not acked yet
 * @param window       the most unacked deliveries it may hold ({@code maxInFlight})
 * @param lag          durable messages it has not been sent yet ({@code lastSequence - nextSequence + 1}, at least 0)
 * @param queued       expired deliveries waiting for window room to be sent again
 * @param redelivered  deliveries sent again after their ack timeout, since it subscribed
 */
public record ConsumerView(String subscriber, long nextSequence, int pending, int window, long lag, int queued,
                           long redelivered) {
}
