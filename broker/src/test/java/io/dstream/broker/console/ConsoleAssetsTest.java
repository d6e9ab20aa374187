package io.dstream.broker.console;

import io.dstream.broker.TestBroker;
import io.vertx.core.Vertx;
import io.vertx.core.buffer.Buffer;
import io.vertx.core.http.HttpMethod;
import io.vertx.ext.web.client.HttpResponse;
import io.vertx.ext.web.client.WebClient;
import io.vertx.junit5.VertxExtension;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.extension.ExtendWith;

import java.util.List;
import java.util.regex.Pattern;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertTrue;

/** The console's files: public, from the jar, under a strict CSP, with no inline script and nothing from elsewhere. */
@ExtendWith(VertxExtension.class)
class ConsoleAssetsTest {

  private static final List<String> FILES = List.of("/console/", "/console/app.js", "/console/api.js",
      "/console/dom.js", "/console/overview.js", "/console/subjects.js", "/console/subject.js",
      "/console/consumers.js", "/console/files.js", "/console/console.css");

  private static HttpResponse<Buffer> get(WebClient web, TestBroker broker, String uri) {
    return web.request(HttpMethod.GET, broker.port(), "127.0.0.1", uri).send().await();
  }

  @Test
  void everyFileIsServedWithoutCredentialsUnderAStrictPolicy(Vertx vertx) throws Exception {
    WebClient web = WebClient.create(vertx);
    try (TestBroker broker = TestBroker.start(vertx)) {
      for (String file : FILES) {
        HttpResponse<Buffer> response = get(web, broker, file);
        assertEquals(200, response.statusCode(), file);
        String policy = response.getHeader("Content-Security-Policy");
        assertTrue(policy.startsWith("default-src 'none'; script-src 'self'; style-src 'self'"), policy);
        assertTrue(policy.contains("frame-ancestors 'none'"), policy);
        assertEquals("nosniff", response.getHeader("X-Content-Type-Options"));
        String body = response.bodyAsString();
        assertFalse(Pattern.compile("https?://").matcher(body).find(), file + " loads nothing from elsewhere");
        assertFalse(body.contains("innerHTML") || body.contains("insertAdjacentHTML") || body.contains("document.write"),
            file + " never parses text as HTML");
      }
      String index = get(web, broker, "/console/").bodyAsString();
      assertFalse(Pattern.compile("<script(?![^>]*\\bsrc=)").matcher(index).find(), "no inline script");
      assertFalse(Pattern.compile("\\son[a-z]+=").matcher(index).find(), "no inline event handler");

      assertTrue(index.contains("<link rel=\"icon\" type=\"image/svg+xml\" href=\"/console/favicon.svg\">"),
          "the console names its icon: a browser would otherwise ask for /favicon.ico, which needs credentials");
      HttpResponse<Buffer> icon = get(web, broker, "/console/favicon.svg");
      assertEquals(200, icon.statusCode());
      assertTrue(icon.getHeader("Content-Type").startsWith("image/svg+xml"), icon.getHeader("Content-Type"));

      HttpResponse<Buffer> uplot = get(web, broker, "/console/vendor/uplot/uPlot.esm.js");
      assertEquals(200, uplot.statusCode());
      assertTrue(uplot.getHeader("Content-Type").startsWith("text/javascript"));
      HttpResponse<Buffer> bare = web.request(HttpMethod.GET, broker.port(), "127.0.0.1", "/console")
          .followRedirects(false).send().await();
      assertEquals(301, bare.statusCode());
      assertEquals("/console/", bare.getHeader("Location"));
      assertEquals(401, get(web, broker, "/admin/overview").statusCode(), "the data needs credentials");
    } finally {
      web.close();
    }
  }
}
