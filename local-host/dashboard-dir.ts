import { fileURLToPath } from 'node:url';

/**
 * The dashboard's static files: `local-host/dashboard/` beside this file when
 * run from source, `dist/dashboard/` beside the bundle (the build copies it there).
 */
export const DASHBOARD_DIR = fileURLToPath(new URL('./dashboard/', import.meta.url));
