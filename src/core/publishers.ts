// Who may publish on a topic: per-topic allowlists of origin peer ids. This is authorisation by the origin's
// signing key (the envelope's signature proves the origin), on top of Noise, which only proves who relayed
// it. Enforced by every node on everything it accepts, by gossip and by sync. Replaceable while running
// (the daemon reloads it on SIGHUP).
export class PublisherPolicy {
  private lists = new Map<string, Set<string>>()

  constructor (lists: Record<string, string[]> = {}) { this.set(lists) }

  set (lists: Record<string, string[]>): void {
    this.lists = new Map(Object.entries(lists).map(([topic, ids]) => [topic, new Set(ids)]))
  }

  /** true unless the topic has an allowlist without this origin */
  allows (topic: string, origin: string): boolean {
    const list = this.lists.get(topic)
    return list == null || list.has(origin)
  }
}
