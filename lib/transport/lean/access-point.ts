import { AddressScheme, type EndpointsObject } from './proto.js';

export interface AccessPoint {
  /** `host:port` of the first endpoint, which route lookups are sent to. */
  authority: string;
  /** Every endpoint, as QueryRoute carries them. */
  endpoints: EndpointsObject;
}

/** The `host:port[;host:port]` endpoints option, as the proxy expects it in a QueryRoute. */
export function parseAccessPoint(endpoints: string): AccessPoint {
  const addresses = endpoints.split(';').map((endpoint) => {
    const separator = endpoint.lastIndexOf(':');
    const host = endpoint.slice(0, separator).replace(/^\[(.*)\]$/, '$1');
    return { host, port: Number(endpoint.slice(separator + 1)) };
  });
  const first = addresses[0] as { host: string; port: number };
  const scheme = /^\d+\.\d+\.\d+\.\d+$/.test(first.host)
    ? AddressScheme.IPV4
    : first.host.includes(':')
      ? AddressScheme.IPV6
      : AddressScheme.DOMAIN_NAME;
  const host = first.host.includes(':') ? `[${first.host}]` : first.host;
  return { authority: `${host}:${first.port}`, endpoints: { scheme, addresses } };
}
