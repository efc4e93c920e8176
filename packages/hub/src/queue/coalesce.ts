/**
 * Coalesces concurrent calls into one run: the first call starts a run at once, with the calls
 * made in the same turn; calls arriving while it runs wait together and go into the next run, so
 * under load one statement serves many callers and a lone caller pays no added delay (the shape
 * of group commit). `run` gets the items in call order and answers one result per item; if it
 * throws, every caller of that run sees the error.
 */
export class Coalescer<I, O> {
  readonly #pending: { item: I; resolve(o: O): void; reject(e: unknown): void }[] = [];
  #running = false;

  constructor(
    private readonly run: (items: I[]) => Promise<O[]>,
    private readonly maxItems = 1000,
  ) {}

  call(item: I): Promise<O> {
    return new Promise<O>((resolve, reject) => {
      this.#pending.push({ item, resolve, reject });
      if (!this.#running) void this.#loop();
    });
  }

  async #loop(): Promise<void> {
    this.#running = true;
    try {
      // Calls made in the same turn (the lines of one answered request) go in the first run too.
      await Promise.resolve();
      while (this.#pending.length > 0) {
        const group = this.#pending.splice(0, this.maxItems);
        try {
          const out = await this.run(group.map((g) => g.item));
          for (const [i, g] of group.entries()) g.resolve(out[i] as O);
        } catch (e) {
          for (const g of group) g.reject(e);
        }
      }
    } finally {
      this.#running = false;
    }
  }
}
