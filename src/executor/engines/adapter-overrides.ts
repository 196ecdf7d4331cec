import type { EngineAdapter } from '../../engines/engine-adapter.js';

/**
 * `adapter` with some of its methods replaced. Every other method is called on the adapter
 * itself (bound), so an adapter whose methods use private fields works unchanged; calls the
 * adapter makes to itself do not pass through the replacements.
 */
export function overriding(
  adapter: EngineAdapter,
  overrides: Partial<Pick<EngineAdapter, 'query' | 'execute' | 'transaction'>>,
): EngineAdapter {
  return new Proxy(adapter, {
    get(target, property) {
      if (Object.hasOwn(overrides, property)) {
        return overrides[property as keyof typeof overrides];
      }
      const value: unknown = Reflect.get(target, property, target);
      return typeof value === 'function' ? value.bind(target) : value;
    },
  });
}
