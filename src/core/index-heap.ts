/**
 * A binary min-heap of integer indexes. The dependency graph numbers its models in name order, so
 * popping the smallest index yields the model with the smallest name.
 */

/** A min-heap of non-negative integers with O(log n) push and pop. */
export class IndexHeap {
  private readonly items: number[] = [];

  get size(): number {
    return this.items.length;
  }

  /** Adds an index to the heap. */
  push(value: number): void {
    const items = this.items;
    let child = items.length;
    items.push(value);

    while (child > 0) {
      const parent = (child - 1) >> 1;
      const parentValue = items[parent] ?? 0;
      if (parentValue <= value) break;
      items[child] = parentValue;
      child = parent;
    }
    items[child] = value;
  }

  /** Removes and returns the smallest index, or undefined when the heap is empty. */
  pop(): number | undefined {
    const items = this.items;
    const smallest = items[0];
    const last = items.pop();
    if (last === undefined || items.length === 0) return smallest;

    this.siftDown(last);
    return smallest;
  }

  private siftDown(value: number): void {
    const items = this.items;
    const length = items.length;
    let parent = 0;

    for (;;) {
      const left = 2 * parent + 1;
      if (left >= length) break;
      const right = left + 1;
      const leftValue = items[left] ?? 0;
      const rightValue = right < length ? (items[right] ?? 0) : Number.POSITIVE_INFINITY;
      const child = rightValue < leftValue ? right : left;
      const childValue = Math.min(leftValue, rightValue);
      if (value <= childValue) break;
      items[parent] = childValue;
      parent = child;
    }
    items[parent] = value;
  }
}
