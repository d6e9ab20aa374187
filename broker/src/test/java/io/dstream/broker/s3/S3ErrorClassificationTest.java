package io.dstream.broker.s3;

import io.minio.errors.ErrorResponseException;
import io.minio.messages.ErrorResponse;
import org.junit.jupiter.api.Test;

import java.io.IOException;
import java.net.ConnectException;
import java.util.concurrent.CompletionException;

import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertTrue;

/**
 * Which failed S3 calls count in {@code dstream_s3_errors}: the endpoint's faults and refusals, not
 * the answers a correct request can get, nor an upload the client abandoned (which no outage can
 * produce on demand in a test, hence this table rather than a broker round trip).
 */
class S3ErrorClassificationTest {

  private static ErrorResponseException answer(String code) {
    return new ErrorResponseException(new ErrorResponse(code, "m", "bucket", "key", "/bucket/key", "r", "h"), null, "");
  }

  @Test
  void outagesAndRefusalsCountExpectedAnswersAndTheCallersStreamDoNot() {
    assertTrue(S3Connection.endpointFailed(new ConnectException("refused")));
    assertTrue(S3Connection.endpointFailed(new CompletionException(new IOException("unexpected end of stream"))));
    assertTrue(S3Connection.endpointFailed(answer("AccessDenied")));
    assertTrue(S3Connection.endpointFailed(answer("NoSuchBucket")));
    assertFalse(S3Connection.endpointFailed(answer("NoSuchKey")));
    assertFalse(S3Connection.endpointFailed(answer("PreconditionFailed")));
    assertFalse(S3Connection.endpointFailed(new IOException("put failed",
        new CallerStreamException("the client sent nothing for 30000 ms", null))));
    assertFalse(S3Connection.endpointFailed(new IllegalStateException("a segment named by the manifest is missing")));
  }
}
