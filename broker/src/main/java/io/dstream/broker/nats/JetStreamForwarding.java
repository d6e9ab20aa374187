package io.dstream.broker.nats;

import io.dstream.broker.auth.Permissions;
import io.dstream.broker.cluster.Wire;
import io.dstream.broker.stream.StreamError;
import io.dstream.pattern.TokenPattern;
import io.vertx.core.Context;
import io.vertx.core.Future;
import io.vertx.core.buffer.Buffer;
import io.vertx.core.json.JsonObject;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

import java.nio.charset.StandardCharsets;
import java.util.ArrayList;
import java.util.List;

/**
 * The JetStream API in cluster mode (docs/cluster.md). A stream lives on the node leading its
 * subject's partition: its requests are served there and its consumers run there, as a JetStream
 * stream's and consumers' leaders do. A node that receives a request naming a stream led elsewhere
 * forwards it there through {@link io.dstream.broker.cluster.LeaderCalls}, with the requester's
 * permissions, and answers the client with what comes back; acks for consumers it does not run go
 * the same way. What a consumer sends (pull requests' messages and statuses, push deliveries and
 * heartbeats, synchronous acks' answers) reaches the client's node through {@link ClusterInterest}.
 * Account-wide requests ({@code INFO}, {@code STREAM.NAMES}, {@code STREAM.LIST}) are answered by
 * any node from its copy of the declarations.
 *
 * <p>Thread-safe: called on connections' contexts, served on the calls' context.
 */
final class JetStreamForwarding {

  private static final Logger LOG = LoggerFactory.getLogger(JetStreamForwarding.class);
  private static final String API_CALL = "nats.js.api";
  private static final String ACK_CALL = "nats.js.ack";

  private final NatsServer server;
  private final JetStreamApi api;

  JetStreamForwarding(NatsServer server, JetStreamApi api) {
    this.server = server;
    this.api = api;
  }

  void start() {
    server.calls.register(API_CALL, this::apiServed);
    server.calls.register(ACK_CALL, this::ackServed);
  }

  /** The stream an API subject (after {@code $JS.API.}) names; null for the account-wide ones. */
  static String streamOf(String api) {
    String[] parts = api.split("\\.", -1);
    if (parts[0].equals("STREAM")) {
      if (parts.length == 4 && parts[1].equals("MSG") && parts[2].equals("GET")) {
        return parts[3];
      }
      return parts.length == 3 ? parts[2] : null;
    }
    if (parts[0].equals("CONSUMER") && parts.length >= 3) {
      boolean longer = parts[1].equals("DURABLE") && parts[2].equals("CREATE")
          || parts[1].equals("MSG") && parts[2].equals("NEXT");
      int at = longer ? 3 : 2;
      return parts.length > at ? parts[at] : null;
    }
    return null;
  }

  /**
   * The subject whose leader serves {@code api} when that is another node; null when this node
   * answers (a single node, an account-wide request, a stream led here, or one not declared, which
   * this node refuses itself).
   */
  String home(String apiName, JsonObject request) {
    if (!server.calls.clustered()) {
      return null;
    }
    String name = streamOf(apiName);
    if (name == null) {
      return null;
    }
    StreamDeclaration declared = api.declaration(name);
    String subject = null;
    if (declared != null) {
      subject = declared.subject();
    } else if (apiName.startsWith("STREAM.CREATE.")) {
      try {
        subject = StreamConfig.requestedSubject(name, request);
      } catch (StreamError | ClassCastException invalid) {
        // Refused here, as on a single node.
        return null;
      }
    }
    return subject == null || server.calls.servesHere(subject) ? null : subject;
  }

  /** Sends a client's request to the node leading {@code home}; completes with its answer (null: answered otherwise). */
  Future<String> forward(JetStreamApi.Requester requester, String home, String apiSubject, String reply,
                         byte[] payload) {
    Buffer request = Buffer.buffer(apiSubject.length() + payload.length + 256);
    Wire.string(request, server.calls.nodeId());
    Wire.string(request, apiSubject);
    Wire.string(request, reply);
    Wire.bytes(request, payload);
    permissions(request, requester.permissions());
    return server.calls.call(home, API_CALL, request, false)
        .map(answer -> answer.length() == 0 ? null : answer.toString(StandardCharsets.UTF_8));
  }

  /** A stream's info from the node leading its subject (for {@code STREAM.LIST}, which shows every stream). */
  Future<JsonObject> info(StreamDeclaration declared) {
    return forward(new JetStreamApi.Requester(Permissions.FULL, null, null), declared.subject(),
        JetStreamApi.PREFIX + "STREAM.INFO." + declared.name(), null, new byte[0]).map(JsonObject::new);
  }

  private Future<Buffer> apiServed(String home, Buffer body, Context context) {
    int[] at = {0};
    String origin = Wire.string(body, at);
    String apiSubject = Wire.string(body, at);
    String reply = Wire.string(body, at);
    byte[] payload = Wire.bytes(body, at);
    Permissions permissions = permissions(body, at);
    if (reply != null && server.interest != null) {
      server.interest.replyTo(reply, origin);
    }
    // The client's node parsed it already.
    JsonObject request = payload.length == 0 ? new JsonObject() : new JsonObject(new String(payload,
        StandardCharsets.UTF_8));
    JetStreamApi.Requester remote = new JetStreamApi.Requester(permissions, context, null);
    String apiName = apiSubject.substring(JetStreamApi.PREFIX.length());
    return api.declarationsFor(apiName, context)
        .compose(v -> api.route(remote, apiName, request, reply, payload))
        .map(answer -> answer == null ? Buffer.buffer(0) : Buffer.buffer(answer));
  }

  /**
   * An ack for a consumer of {@code stream} that this node does not run: joins {@code batch}, which
   * sends it to the node leading the stream's subject with the others of its turn, if another node
   * leads it (else it is dropped, as an ack for no consumer is; the message is sent again after its
   * ack wait).
   */
  void forwardAck(AckBatch batch, String stream, String ackSubject, String reply, byte[] payload) {
    StreamDeclaration declared = api.declaration(stream);
    if (!server.calls.clustered() || declared == null || server.calls.servesHere(declared.subject())) {
      return;
    }
    batch.forward(this, declared.subject(), new AckBatch.Forwarded(ackSubject, reply, payload));
  }

  /** One turn's acks for consumers that the node leading {@code leaderSubject} runs; not retried. */
  void sendAcks(String leaderSubject, List<AckBatch.Forwarded> acks) {
    int bytes = 64;
    for (AckBatch.Forwarded ack : acks) {
      bytes += ack.subject().length() + ack.payload().length + 16 + (ack.reply() == null ? 0 : ack.reply().length());
    }
    Buffer request = Buffer.buffer(bytes);
    Wire.string(request, server.calls.nodeId());
    request.appendInt(acks.size());
    for (AckBatch.Forwarded ack : acks) {
      Wire.string(request, ack.subject());
      Wire.string(request, ack.reply());
      Wire.bytes(request, ack.payload());
    }
    server.calls.call(leaderSubject, ACK_CALL, request, false)
        .onFailure(failure -> LOG.debug("{} acks for consumers on {}'s leader not forwarded: {}", acks.size(),
            leaderSubject, failure.toString()));
  }

  private Future<Buffer> ackServed(String home, Buffer body, Context context) {
    int[] at = {0};
    String origin = Wire.string(body, at);
    int count = body.getInt(at[0]);
    at[0] += 4;
    AckBatch batch = new AckBatch();
    for (int i = 0; i < count; i++) {
      String ackSubject = Wire.string(body, at);
      String reply = Wire.string(body, at);
      byte[] payload = Wire.bytes(body, at);
      if (reply != null && server.interest != null) {
        server.interest.replyTo(reply, origin);
      }
      api.consumers().ack(batch, ackSubject, reply, payload);
    }
    batch.flush();
    return Future.succeededFuture(Buffer.buffer(0));
  }

  /** What the requester may do, as far as JetStream asks: its subject permissions. */
  private static void permissions(Buffer out, Permissions permissions) {
    Wire.string(out, permissions.who());
    patterns(out, permissions.publish());
    patterns(out, permissions.subscribe());
    out.appendByte((byte) (permissions.admin() ? 1 : 0)).appendLong(permissions.expiresAtMs());
  }

  private static Permissions permissions(Buffer in, int[] at) {
    String who = Wire.string(in, at);
    List<TokenPattern> publish = patterns(in, at);
    List<TokenPattern> subscribe = patterns(in, at);
    boolean admin = in.getByte(at[0]) == 1;
    long expiresAtMs = in.getLong(at[0] + 1);
    at[0] += 9;
    return new Permissions(who, publish, subscribe, List.of(), List.of(), admin, expiresAtMs);
  }

  private static void patterns(Buffer out, List<TokenPattern> patterns) {
    out.appendInt(patterns.size());
    patterns.forEach(pattern -> Wire.string(out, pattern.toString()));
  }

  private static List<TokenPattern> patterns(Buffer in, int[] at) {
    int count = in.getInt(at[0]);
    at[0] += 4;
    List<TokenPattern> patterns = new ArrayList<>(count);
    for (int i = 0; i < count; i++) {
      patterns.add(TokenPattern.subjects(Wire.string(in, at)));
    }
    return patterns;
  }
}
