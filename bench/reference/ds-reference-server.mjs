// Starts the npm Durable Streams reference server (@durable-streams/server) for bench/run.sh:
// file-backed store (segment log files fdatasynced on every append, LMDB for the metadata) under
// the given data dir, on 127.0.0.1. Usage: node ds-reference-server.mjs PORT DATA_DIR
import { DurableStreamTestServer } from "@durable-streams/server"

const [port, dataDir] = process.argv.slice(2)
const server = new DurableStreamTestServer({ host: "127.0.0.1", port: Number(port), dataDir })
await server.start()
console.log(`listening on ${server.url}`)
for (const signal of ["SIGTERM", "SIGINT"]) {
  process.on(signal, () => server.stop().finally(() => process.exit(0)))
}
