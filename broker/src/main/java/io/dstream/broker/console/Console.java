package io.dstream.broker.console;

import io.vertx.ext.web.Router;
import io.vertx.ext.web.RoutingContext;
import io.vertx.ext.web.handler.CSPHandler;
import io.vertx.ext.web.handler.StaticHandler;
import io.vertx.ext.web.handler.XFrameHandler;

/**
 * The web console (docs/console.md): static HTML, CSS and JavaScript modules from the broker jar at
 * {@code /console/}, and uPlot (its WebJar, also in the jar) at {@code /console/vendor/uplot/}.
 * Nothing is loaded from elsewhere. The shell is public; everything it shows comes from the admin
 * and file APIs with the credential the operator typed, which the page keeps in its tab's
 * {@code sessionStorage} and sends as an {@code Authorization} header (no cookie, so a cross-site
 * request carries no credential and cannot change anything).
 *
 * <p>Every response under {@code /console} carries a strict Content-Security-Policy: scripts,
 * styles and requests only from this origin, no inline script, no framing, no plugins, no form
 * targets. Together with rendering every payload and file name as text, a stored message cannot
 * run script in the console. Mounted before authentication; its handlers run on the event loop and
 * StaticHandler reads the jar off it.
 */
public final class Console {

  /** Where the console's own files lie on the classpath. */
  private static final String ASSETS = "io/dstream/broker/console/static";
  /** Where the uPlot WebJar puts its distribution files; the version is the one broker/pom.xml depends on. */
  private static final String UPLOT = "META-INF/resources/webjars/uplot/1.6.30/dist";

  /** Adds {@code /console} to {@code router}; call before the authentication step. */
  public void mount(Router router) {
    // A regex: a plain "/console" route would also match "/console/" and redirect it to itself.
    router.getWithRegex("/console").handler(Console::redirectToSlash);
    router.route("/console/*")
        .handler(CSPHandler.create()
            .setDirective("default-src", "'none'")
            .addDirective("script-src", "'self'")
            .addDirective("style-src", "'self'")
            .addDirective("img-src", "'self'")
            .addDirective("connect-src", "'self'")
            .addDirective("base-uri", "'none'")
            .addDirective("form-action", "'none'")
            .addDirective("frame-ancestors", "'none'"))
        .handler(XFrameHandler.create(XFrameHandler.DENY))
        .handler(Console::noSniffNoReferrer);
    router.get("/console/vendor/uplot/*").handler(StaticHandler.create(UPLOT).setCachingEnabled(false));
    router.get("/console/*").handler(StaticHandler.create(ASSETS).setCachingEnabled(false)
        .setDirectoryListing(false).setIncludeHidden(false));
  }

  private static void redirectToSlash(RoutingContext ctx) {
    ctx.response().setStatusCode(301).putHeader("Location", "/console/").end();
  }

  private static void noSniffNoReferrer(RoutingContext ctx) {
    ctx.response().putHeader("X-Content-Type-Options", "nosniff").putHeader("Referrer-Policy", "no-referrer");
    ctx.next();
  }
}
