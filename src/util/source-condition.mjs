// Module resolve hook used when marginlab runs from its sources (see register-loaders.mjs):
// `'marginlab'` and `'marginlab/…'` resolve with the 'marginlab-source' export condition
// (package.json exports → src/index.ts) rather than the compiled dist/.
export async function resolve(specifier, context, nextResolve) {
  if (specifier === 'marginlab' || specifier.startsWith('marginlab/')) {
    return nextResolve(specifier, { ...context, conditions: [...(context.conditions ?? []), 'marginlab-source'] });
  }
  return nextResolve(specifier, context);
}
