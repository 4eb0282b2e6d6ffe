/** Moved to ./stackbox.ts (kept so imports in other helpers' folders work until the lead updates them). */
export * from './stackbox.js';
