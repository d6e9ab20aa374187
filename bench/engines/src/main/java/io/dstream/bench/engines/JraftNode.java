package io.dstream.bench.engines;

import com.alipay.sofa.jraft.Iterator;
import com.alipay.sofa.jraft.Node;
import com.alipay.sofa.jraft.RaftGroupService;
import com.alipay.sofa.jraft.Status;
import com.alipay.sofa.jraft.conf.Configuration;
import com.alipay.sofa.jraft.core.StateMachineAdapter;
import com.alipay.sofa.jraft.entity.PeerId;
import com.alipay.sofa.jraft.entity.Task;
import com.alipay.sofa.jraft.option.NodeOptions;

import java.nio.ByteBuffer;
import java.util.concurrent.CompletableFuture;

/**
 * One node of a three-node SOFAJRaft group on 127.0.0.1, ports {@code base + 1..3}, its log in
 * RocksDB, forced to the disk before an entry counts unless {@code sync} is false.
 * Arguments: {@code id (1-3) dataDir basePort sync warmUp count followSeconds}.
 */
public final class JraftNode {

  private JraftNode() {
  }

  public static void main(String[] args) throws Exception {
    int id = Integer.parseInt(args[0]);
    int base = Integer.parseInt(args[2]);
    NodeOptions options = new NodeOptions();
    options.setElectionTimeoutMs(1000);
    options.getRaftOptions().setSync(Boolean.parseBoolean(args[3]));
    options.setFsm(new StateMachineAdapter() {
      @Override
      public void onApply(Iterator entries) {
        while (entries.hasNext()) {
          if (entries.done() != null) {
            entries.done().run(Status.OK());
          }
          entries.next();
        }
      }
    });
    options.setLogUri(args[1] + "/log");
    options.setRaftMetaUri(args[1] + "/meta");
    Configuration peers = new Configuration();
    peers.parse("127.0.0.1:" + (base + 1) + ",127.0.0.1:" + (base + 2) + ",127.0.0.1:" + (base + 3));
    options.setInitialConf(peers);
    PeerId self = new PeerId();
    self.parse("127.0.0.1:" + (base + id));
    RaftGroupService group = new RaftGroupService("bench", self, options);
    Node node = group.start();
    OneAtATime.run("jraft node " + id, Integer.parseInt(args[4]), Integer.parseInt(args[5]), Long.parseLong(args[6]),
        node::isLeader, entry -> {
          CompletableFuture<Void> committed = new CompletableFuture<>();
          node.apply(new Task(ByteBuffer.wrap(entry), status -> {
            if (status.isOk()) {
              committed.complete(null);
            } else {
              committed.completeExceptionally(new IllegalStateException(status.toString()));
            }
          }));
          return committed;
        });
    group.shutdown();
    System.exit(0);
  }
}
