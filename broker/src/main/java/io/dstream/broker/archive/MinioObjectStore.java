package io.dstream.broker.archive;

import io.dstream.broker.s3.S3Connection;
import io.minio.GetObjectArgs;
import io.minio.GetObjectResponse;
import io.minio.ListObjectsArgs;
import io.minio.MinioClient;
import io.minio.PutObjectArgs;
import io.minio.RemoveObjectsArgs;
import io.minio.Result;
import io.minio.messages.DeleteError;
import io.minio.messages.DeleteObject;
import io.minio.messages.Item;

import java.io.ByteArrayInputStream;
import java.io.IOException;
import java.util.ArrayList;
import java.util.List;
import java.util.Optional;

/** {@link ObjectStore} on the broker's bucket through the MinIO SDK. Thread-safe (the client is). */
public final class MinioObjectStore implements ObjectStore {

  private final MinioClient client;
  private final String bucket;

  public MinioObjectStore(MinioClient client, String bucket) {
    this.client = client;
    this.bucket = bucket;
  }

  @Override
  public Optional<byte[]> get(String key) throws Exception {
    try (GetObjectResponse response = client.getObject(GetObjectArgs.builder().bucket(bucket).object(key).build())) {
      return Optional.of(response.readAllBytes());
    } catch (Exception e) {
      if ("NoSuchKey".equals(S3Connection.errorCode(e))) {
        return Optional.empty();
      }
      throw e;
    }
  }

  @Override
  public void put(String key, byte[] bytes, String contentType) throws Exception {
    client.putObject(PutObjectArgs.builder().bucket(bucket).object(key)
        .stream(new ByteArrayInputStream(bytes), bytes.length, -1).contentType(contentType).build());
  }

  @Override
  public void delete(List<String> keys) throws Exception {
    if (keys.isEmpty()) {
      return;
    }
    List<DeleteObject> objects = keys.stream().map(DeleteObject::new).toList();
    // The SDK sends the request while the results are iterated.
    for (Result<DeleteError> result : client.removeObjects(RemoveObjectsArgs.builder().bucket(bucket).objects(objects).build())) {
      DeleteError error = result.get();
      if (!"NoSuchKey".equals(error.code())) {
        throw new IOException("deleting " + error.objectName() + " failed: " + error.code() + " " + error.message());
      }
    }
  }

  @Override
  public boolean anyWithPrefix(String prefix) throws Exception {
    for (Result<Item> result : client.listObjects(ListObjectsArgs.builder().bucket(bucket).prefix(prefix).maxKeys(1)
        .recursive(true).build())) {
      result.get();
      return true;
    }
    return false;
  }

  @Override
  public List<String> list(String prefix) throws Exception {
    List<String> keys = new ArrayList<>();
    for (Result<Item> result : client.listObjects(ListObjectsArgs.builder().bucket(bucket).prefix(prefix).recursive(true).build())) {
      keys.add(result.get().objectName());
    }
    return keys;
  }

  @Override
  public List<String> list(String prefix, String startAfter, int maxKeys) throws Exception {
    ListObjectsArgs.Builder args = ListObjectsArgs.builder().bucket(bucket).prefix(prefix).recursive(true).maxKeys(maxKeys);
    if (startAfter != null) {
      args.startAfter(startAfter);
    }
    List<String> keys = new ArrayList<>();
    // The SDK fetches the next page when the iteration asks past this one: stopping at maxKeys keeps it to one request.
    for (Result<Item> result : client.listObjects(args.build())) {
      keys.add(result.get().objectName());
      if (keys.size() == maxKeys) {
        break;
      }
    }
    return keys;
  }
}
