import { Producer } from 'rocketmq-client-nodejs';

/**
 * The raw-client side of the cold-start comparison: the least a script needs to get one message acked
 * by the official client. bench/cold-start.ts bundles it with the options `npm run build` uses for the
 * functions; bench/cold-start-driver.cjs loads that bundle in a fresh process. It does not shut the
 * client down: the clock stops at the ack, as it does for the function.
 */
export async function sendOne(endpoints: string, topic: string): Promise<string> {
  const producer = new Producer({
    endpoints,
    namespace: '',
    // Without a logger the client writes log files under the home directory; the function's client
    // logs through Powertools instead.
    logger: { info() {}, warn() {}, error() {}, debug() {} },
  });
  await producer.startup();
  const receipt = await producer.send({
    topic,
    body: Buffer.from(
      JSON.stringify({ orderId: '1001', customerId: 'c-42', items: [{ sku: 'A1', qty: 2 }], total: 59.8 }),
    ),
  });
  return receipt.messageId;
}
