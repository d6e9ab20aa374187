package io.dstream.bench.engines;

import org.apache.ratis.RaftConfigKeys;
import org.apache.ratis.conf.RaftProperties;
import org.apache.ratis.grpc.GrpcConfigKeys;
import org.apache.ratis.netty.NettyConfigKeys;
import org.apache.ratis.protocol.ClientId;
import org.apache.ratis.protocol.Message;
import org.apache.ratis.protocol.RaftClientReply;
import org.apache.ratis.protocol.RaftClientRequest;
import org.apache.ratis.protocol.RaftGroup;
import org.apache.ratis.protocol.RaftGroupId;
import org.apache.ratis.protocol.RaftPeer;
import org.apache.ratis.protocol.RaftPeerId;
import org.apache.ratis.rpc.SupportedRpcType;
import org.apache.ratis.server.RaftServer;
import org.apache.ratis.server.RaftServerConfigKeys;
import org.apache.ratis.statemachine.TransactionContext;
import org.apache.ratis.statemachine.impl.BaseStateMachine;
import org.apache.ratis.thirdparty.com.google.protobuf.ByteString;
import org.apache.ratis.util.TimeDuration;

import java.io.File;
import java.io.IOException;
import java.nio.charset.StandardCharsets;
import java.util.ArrayList;
import java.util.List;
import java.util.UUID;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicLong;

/**
 * One node of a three-node Apache Ratis group over gRPC, or Ratis's Netty transport, on 127.0.0.1,
 * ports {@code base + 1..3},
 * with the broker's settings on this path (election timeouts, no wait between appends), the log
 * forced before an entry counts unless {@code sync} is false (Ratis's unsafe flush, the broker's
 * {@code DSTREAM_SYNC=os}). The leader proposes in its own process, as the broker does.
 * Arguments: {@code id (1-3) dataDir basePort sync warmUp count followSeconds grpc|netty}.
 */
public final class RatisNode {

  private RatisNode() {
  }

  public static void main(String[] args) throws Exception {
    int id = Integer.parseInt(args[0]);
    int base = Integer.parseInt(args[2]);
    List<RaftPeer> peers = new ArrayList<>();
    for (int i = 1; i <= 3; i++) {
      peers.add(RaftPeer.newBuilder().setId("n" + i).setAddress("127.0.0.1:" + (base + i)).build());
    }
    RaftGroup group = RaftGroup.valueOf(
        RaftGroupId.valueOf(UUID.nameUUIDFromBytes("bench".getBytes(StandardCharsets.UTF_8))), peers);
    RaftProperties properties = new RaftProperties();
    RaftServerConfigKeys.setStorageDir(properties, List.of(new File(args[1])));
    if (args[7].equals("netty")) {
      RaftConfigKeys.Rpc.setType(properties, SupportedRpcType.NETTY);
      NettyConfigKeys.Server.setPort(properties, base + id);
    } else {
      GrpcConfigKeys.Server.setPort(properties, base + id);
    }
    RaftServerConfigKeys.Rpc.setTimeoutMin(properties, TimeDuration.valueOf(500, TimeUnit.MILLISECONDS));
    RaftServerConfigKeys.Rpc.setTimeoutMax(properties, TimeDuration.valueOf(1000, TimeUnit.MILLISECONDS));
    RaftServerConfigKeys.Log.Appender.setWaitTimeMin(properties, TimeDuration.valueOf(0, TimeUnit.MILLISECONDS));
    RaftServerConfigKeys.Log.setUnsafeFlushEnabled(properties, !Boolean.parseBoolean(args[3]));
    RaftServer server = RaftServer.newBuilder().setServerId(RaftPeerId.valueOf("n" + id)).setProperties(properties)
        .setGroup(group).setStateMachine(new BaseStateMachine() {
          @Override
          public CompletableFuture<Message> applyTransaction(TransactionContext transaction) {
            updateLastAppliedTermIndex(transaction.getLogEntry().getTerm(), transaction.getLogEntry().getIndex());
            return CompletableFuture.completedFuture(Message.EMPTY);
          }
        }).build();
    server.start();
    ClientId client = ClientId.randomId();
    AtomicLong calls = new AtomicLong();
    OneAtATime.run("ratis-" + args[7] + " node " + id, Integer.parseInt(args[4]), Integer.parseInt(args[5]),
        Long.parseLong(args[6]),
        () -> leads(server, group), entry -> submit(server, RaftClientRequest.newBuilder().setClientId(client)
            .setServerId(server.getId()).setGroupId(group.getGroupId()).setCallId(calls.incrementAndGet())
            .setMessage(Message.valueOf(ByteString.copyFrom(entry))).setType(RaftClientRequest.writeRequestType())
            .build()));
    server.close();
    System.exit(0);
  }

  private static boolean leads(RaftServer server, RaftGroup group) {
    try {
      return server.getDivision(group.getGroupId()).getInfo().isLeaderReady();
    } catch (IOException e) {
      return false;
    }
  }

  private static CompletableFuture<RaftClientReply> submit(RaftServer server, RaftClientRequest request) {
    try {
      return server.submitClientRequestAsync(request).thenApply(reply -> {
        if (!reply.isSuccess()) {
          throw new IllegalStateException(String.valueOf(reply.getException()));
        }
        return reply;
      });
    } catch (IOException e) {
      return CompletableFuture.failedFuture(e);
    }
  }
}
