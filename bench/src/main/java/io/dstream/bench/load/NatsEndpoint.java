package io.dstream.bench.load;

import io.nats.client.Connection;
import io.nats.client.Nats;
import io.nats.client.Options;

import java.time.Duration;

/**
 * Where a NATS client connects: a nats-server, or our broker's NATS port with its API key as the
 * {@code CONNECT} token (null: no token). Every jnats connection of the harness is made here, with
 * the same options, so the two servers get the very same client.
 */
record NatsEndpoint(String url, String token) {

  Connection connect() throws Exception {
    Options.Builder options = new Options.Builder().server(url).noReconnect().connectionTimeout(Duration.ofSeconds(10))
        .maxMessagesInOutgoingQueue(100_000);
    if (token != null) {
      options.token(token.toCharArray());
    }
    return Nats.connect(options.build());
  }
}
