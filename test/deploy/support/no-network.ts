import dns from 'node:dns';
import net from 'node:net';

/**
 * Preloaded (`--import`) into CLIs that promise to stay offline: every outgoing connection and DNS lookup
 * throws, so a test fails loudly if the promise is broken.
 */
function refuse(): never {
  throw new Error('network access attempted by a command that must stay offline');
}

net.Socket.prototype.connect = refuse as unknown as typeof net.Socket.prototype.connect;
dns.lookup = refuse as unknown as typeof dns.lookup;
dns.promises.lookup = refuse as unknown as typeof dns.promises.lookup;
