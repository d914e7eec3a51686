// Types of register-loaders.mjs (plain JavaScript, copied into dist/ as it is).
/** true when running from src/*.ts (through tsx), false when running from dist/. */
export declare const FROM_SOURCE: boolean;
/** Register the loaders once per thread; resolves when they are in place. */
export declare function registerLoaders(): Promise<void>;
/** An entry point of the CLI or of its threads: from the sources the loaders now; from dist/ when user code loads. */
export declare function entryLoaders(): Promise<void>;
/** Before user code loads: the loaders, in a thread whose entry point asked for them; true when they are in place. */
export declare function userCodeLoaders(): Promise<boolean>;
