package io.dstream.broker.http;

import io.dstream.broker.limits.MemoryBudget;
import io.dstream.broker.metrics.BrokerMetrics;
import io.vertx.core.Handler;
import io.vertx.ext.web.RoutingContext;

/**
 * Holds a buffered request body's bytes in the broker-wide {@link MemoryBudget} from before the
 * body handler reads it until the request is answered: its {@code Content-Length} (at most the
 * route's body limit), or the whole limit for a chunked body, whose size is unknown until its end.
 * A request that does not fit is answered {@code 503 overloaded} with {@code Retry-After: 1} and
 * its body is never read. Thread-safe (the budget is).
 */
public final class BodyBudget implements Handler<RoutingContext> {

  private final MemoryBudget budget;
  private final long maxBodyBytes;
  private final BrokerMetrics metrics;

  public BodyBudget(MemoryBudget budget, long maxBodyBytes, BrokerMetrics metrics) {
    this.budget = budget;
    this.maxBodyBytes = maxBodyBytes;
    this.metrics = metrics;
  }

  @Override
  public void handle(RoutingContext ctx) {
    long bytes = Math.min(declaredLength(ctx), maxBodyBytes);
    if (!budget.tryReserve(bytes)) {
      metrics.overloaded.increment();
      // The unread body cannot be skipped cheaply: the connection goes with the answer.
      ctx.response().putHeader("Connection", "close");
      HttpErrors.sendRetryLater(ctx.response(), "overloaded", MemoryBudget.EXHAUSTED_MESSAGE);
      return;
    }
    ctx.addEndHandler(done -> budget.release(bytes));
    ctx.next();
  }

  private static long declaredLength(RoutingContext ctx) {
    String header = ctx.request().getHeader("Content-Length");
    if (header == null || ctx.request().getHeader("Transfer-Encoding") != null) {
      return Long.MAX_VALUE;
    }
    try {
      return Math.max(0, Long.parseLong(header.trim()));
    } catch (NumberFormatException e) {
      return Long.MAX_VALUE;
    }
  }
}
