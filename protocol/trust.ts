import { z } from "zod";
import { PUBKEY_HEX } from "./crypto.ts";
import { LIMITS } from "./limits.ts";

export const TrustCreateBody = z.object({ user_id: z.string().min(1).max(LIMITS.maxUserIdChars) });
export const TrustCreateResponse = z.object({ pairing_code: z.string(), expires_at: z.string() });

export const TrustClaimBody = z.object({
  pairing_code: z.string().min(1).max(64),
  provider_pubkey: z.string().regex(PUBKEY_HEX, "64 lowercase hex characters"),
});
export const TrustClaimResponse = z.object({ user_id: z.string(), paired_at: z.string() });

export const TrustListQuery = z.object({ user_id: z.string().min(1).max(LIMITS.maxUserIdChars) });
export const TrustListResponse = z.object({
  providers: z.array(z.object({ provider_pubkey: z.string(), paired_at: z.string() })),
});

/** Pairing codes: 10 characters of Crockford base32 = 50 bits, easy to read aloud and type. */
export const PAIRING_CODE = /^[0-9A-HJKMNP-TV-Z]{10}$/;
