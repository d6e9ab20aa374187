package io.dstream.broker.stream;

import java.util.List;

/** A durable {@link StreamActor#publishAll}: the messages in order and the producer version after it. */
public record Appended(List<Published> messages, long producerVersion) {
}
