// What `secondaryd doctor` learns about a zone from the outside (gathered by probe.ts, judged by
// analyze.ts): the NS set as we serve it, each nameserver address's SOA answer, each primary's
// answer to a transfer request, this machine's addresses and the zone's alert settings.
//
// Plain data only, so the analysis is a pure function that unit tests feed by hand, and the whole
// record can go into the JSON report as is.

/** How one nameserver address answered our SOA query. */
export interface AddressFacts {
  address: string;
  family: 4 | 6;
  /** SOA serial of an authoritative NOERROR answer. */
  serial?: number;
  /** NOERROR with AA set and the zone's SOA in the answer. */
  authoritative: boolean;
  /** Why there is no authoritative answer: nothing came back (timeout, port closed), or it was not authoritative. */
  failure?: 'no-answer' | 'not-authoritative';
  /** The reason in words ("timeout after 2000 ms", "answered REFUSED", "AA bit clear"). */
  error?: string;
  /** One of this machine's addresses (or a listen address of this server). */
  local?: boolean;
}

/** One name of the zone's apex NS RRset. */
export interface NameserverFacts {
  /** Lower case, with the final dot. */
  name: string;
  /** The target lies inside the zone: its addresses come from our own data (else from the system resolver). */
  inZone: boolean;
  addresses: AddressFacts[];
  /** Why no address at all was found (NXDOMAIN, no A/AAAA, resolver timeout...). */
  resolveError?: string;
}

/** The answer of one primary to a (TSIG-signed when configured) AXFR request: only its first message. */
export interface PrimaryFacts {
  /** "host:port". */
  address: string;
  /** TSIG key name used, when one is configured. */
  key?: string;
  allowed: boolean;
  /** Serial of the SOA the transfer opened with. */
  serial?: number;
  /** Why the transfer was not allowed ("answered NOTAUTH, TSIG BADSIG", "connect ECONNREFUSED ..."). */
  error?: string;
}

export interface DoctorFacts {
  /** Lower case, with the final dot. */
  zone: string;
  /** A secondary pulls from primaries; a file zone is read from a master file. */
  kind: 'secondary' | 'file';
  /** Port the nameserver addresses were asked on. */
  port: number;
  /** This server as queried through its first listen address. */
  self: {
    host: string;
    port: number;
    /** "host:port" ("[v6]:port"). */
    address: string;
    serial?: number;
    /** Why we could not read the zone from ourselves (daemon down, zone not loaded...). */
    error?: string;
  };
  /** The apex NS set as this server serves it, in the order served; empty when unknown. */
  nameservers: NameserverFacts[];
  primaries: PrimaryFacts[];
  /** This machine's addresses and the non-wildcard listen addresses. */
  localAddresses: string[];
  alerts: { webhook: boolean; command: boolean };
}
