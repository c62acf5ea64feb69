/**
 * Stands in for `egg-logger` inside RocketMQ client bundles. The client only builds an EggLogger when it
 * is given no `logger` (its default writes files under the home directory, which is read-only on FC and
 * Lambda); the library always passes one. Leaving egg-logger out takes about 40 % off every bundle (it
 * pulls in iconv-lite, chalk and more). Should anything still ask for the default logger, it says why.
 */
export class EggLogger {
  constructor() {
    throw new Error(
      "rocketmq-client-nodejs's default file logger is not in this bundle: pass a `logger` to the client",
    );
  }
}
