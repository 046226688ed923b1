// Imported first by the page: its CSP allows no eval, and zod must not even probe for it (a
// caught probe is still reported as a violation). Module bodies run in import order, so this
// runs before any schema of the protocol is built or used.
import { z } from "zod";

z.config({ jitless: true });
