#!/usr/bin/env node
// The `stackbox` command: runs the compiled CLI (built by `npm ci` through the `prepare` script).
import '../dist/main.js';
