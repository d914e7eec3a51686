// Types of register-loaders.mjs (plain JavaScript, copied into dist/ as it is).
/** true when running from src/*.ts (through tsx), false when running from dist/. */
export declare const FROM_SOURCE: boolean;
/** Register the loaders once per thread. */
export declare function registerLoaders(): void;
