package io.dstream.broker.admin;

import io.dstream.broker.http.HttpErrors;
import io.dstream.broker.store.MessageStore;
import io.dstream.broker.store.StoreException;
import io.dstream.broker.store.SubjectRecord;
import io.dstream.broker.stream.OverloadedException;
import io.dstream.broker.stream.StreamActor;
import io.dstream.broker.stream.StreamRegistry;
import io.vertx.core.Context;
import io.vertx.core.Future;
import io.vertx.core.Promise;
import io.vertx.core.Vertx;
import io.vertx.core.WorkerExecutor;
import io.vertx.ext.web.RoutingContext;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

import java.util.concurrent.Callable;
import java.util.function.BiConsumer;
import java.util.function.BiFunction;
import java.util.function.Consumer;

/**
 * What every admin route does the same way: parse numeric parameters (400 on bad ones), run store
 * reads on the readers' pool, and call a subject's actor, attached for the call and detached after,
 * only once the store confirmed the subject exists (so no admin request ever creates a subject).
 * Answers are JSON; failures are the usual error object. Handlers run on the request's event loop.
 */
final class AdminRequests {

  private static final Logger LOG = LoggerFactory.getLogger(AdminRequests.class);

  private final MessageStore store;
  private final WorkerExecutor readers;
  private final StreamRegistry registry;

  AdminRequests(MessageStore store, WorkerExecutor readers, StreamRegistry registry) {
    this.store = store;
    this.readers = readers;
    this.registry = registry;
  }

  /** Runs a store read on the worker pool; a null result is a 404 for the subject in the path. */
  void blocking(RoutingContext ctx, Callable<String> read) {
    readers.executeBlocking(read, false).onComplete(ar -> {
      if (ar.failed()) {
        fail(ctx, ar.cause());
      } else if (ar.result() == null) {
        notFound(ctx);
      } else {
        json(ctx, ar.result());
      }
    });
  }

  /**
   * Answers with what {@code call} makes of the subject's record and actor: 404 if the store has no
   * such subject, the actor attached only for the call.
   */
  void withActor(RoutingContext ctx, BiFunction<SubjectRecord, StreamActor, Future<String>> call) {
    String subject = ctx.pathParam("subject");
    readers.executeBlocking(() -> store.find(subject), false).onComplete(found -> {
      if (found.failed()) {
        fail(ctx, found.cause());
      } else if (found.result() == null) {
        notFound(ctx);
      } else {
        attached(ctx, subject, found.result(), call);
      }
    });
  }

  private void attached(RoutingContext ctx, String subject, SubjectRecord record,
                        BiFunction<SubjectRecord, StreamActor, Future<String>> call) {
    registry.attach(subject, Vertx.currentContext()).onComplete(attached -> {
      if (attached.failed()) {
        fail(ctx, attached.cause());
        return;
      }
      StreamActor actor = attached.result();
      Future<String> answer;
      try {
        answer = call.apply(record, actor);
      } catch (RuntimeException e) {
        answer = Future.failedFuture(e);
      }
      answer.onComplete(done -> {
        actor.detach();
        if (done.failed()) {
          fail(ctx, done.cause());
        } else {
          json(ctx, done.result());
        }
      });
    });
  }

  /** An actor call as a future completed on the calling (request's) context. */
  static <T> Future<T> call(Consumer<BiConsumer<T, Throwable>> actorCall) {
    Context context = Vertx.currentContext();
    Promise<T> promise = Promise.promise();
    actorCall.accept((result, failure) -> context.runOnContext(v -> {
      if (failure != null) {
        promise.fail(failure);
      } else {
        promise.complete(result);
      }
    }));
    return promise.future();
  }

  static void json(RoutingContext ctx, String body) {
    if (!ctx.response().ended() && !ctx.response().closed()) {
      ctx.response().putHeader("Content-Type", "application/json").end(body);
    }
  }

  static void notFound(RoutingContext ctx) {
    HttpErrors.send(ctx.response(), 404, "not_found", "no subject '" + ctx.pathParam("subject") + "'");
  }

  static void fail(RoutingContext ctx, Throwable failure) {
    if (failure instanceof OverloadedException) {
      ctx.response().putHeader("Retry-After", "1");
      HttpErrors.send(ctx.response(), 503, "overloaded", failure.getMessage());
    } else if (failure instanceof StoreException) {
      HttpErrors.send(ctx.response(), 500, "storage_error", failure.getMessage());
    } else {
      LOG.error("admin request {} {} failed", ctx.request().method(), ctx.request().path(), failure);
      HttpErrors.send(ctx.response(), 500, "internal", "internal error");
    }
  }

  /** {@code limit} between 1 and {@code max}, {@code defaultValue} if absent; null after answering 400. */
  static Integer limit(RoutingContext ctx, int defaultValue, int max) {
    Long limit = number(ctx, "limit", defaultValue);
    if (limit == null) {
      return null;
    }
    if (limit < 1 || limit > max) {
      HttpErrors.send(ctx.response(), 400, "invalid_argument", "limit must be 1.." + max + ", got " + limit);
      return null;
    }
    return limit.intValue();
  }

  /** @return the query parameter as a number, its default if absent, or null after answering 400 */
  static Long number(RoutingContext ctx, String name, long defaultValue) {
    String raw = ctx.request().getParam(name);
    if (raw == null || raw.isEmpty()) {
      return defaultValue;
    }
    try {
      return Long.parseLong(raw);
    } catch (NumberFormatException e) {
      HttpErrors.send(ctx.response(), 400, "invalid_argument", name + " must be an integer, got '" + raw + "'");
      return null;
    }
  }
}
