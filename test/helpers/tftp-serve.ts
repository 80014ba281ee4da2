// Starts a TftpServer in its own process (for namespaces and for load tests):
//   node test/helpers/tftp-serve.ts <root> <address> <port> [limits-json]
// Prints "ready <port>" once listening; on SIGTERM it stops and prints its metrics as JSON.
import { EventBus } from '../../src/events/bus.ts';
import { FileResolver } from '../../src/files/resolver.ts';
import { createLogger } from '../../src/log/logger.ts';
import { TftpServer } from '../../src/tftp/server.ts';

const [root, address, port, limits] = process.argv.slice(2);
if (root === undefined || address === undefined || port === undefined) {
  console.error('usage: tftp-serve.ts <root> <address> <port> [limits-json]');
  process.exit(2);
}
const server = new TftpServer({
  logger: createLogger({ level: 'error', format: 'json', destination: 2 }),
  events: new EventBus(),
  resolver: new FileResolver({ root }),
  limits: limits === undefined ? {} : JSON.parse(limits),
});
await server.start({ address, port: Number(port) });
console.log(`ready ${server.port}`);
process.on('SIGTERM', () => {
  void server.stop().then(() => {
    console.log(JSON.stringify(server.metrics()));
    process.exit(0);
  });
});
