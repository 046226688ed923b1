/** The Dispatch seeker SDK. Runtime-neutral: Node, browsers and Workers (identity-file.ts is the Node-only extra). */

export { type AnchorCheck, checkAnchor } from "./anchor-check.ts";
export { type ClientFetch, type DispatchFetchOptions, dispatchFetch } from "./dispatch-fetch.ts";
export type { DispatchErrorCode, SdkErrorCode } from "./errors.ts";
export { DispatchError, isDispatchError } from "./errors.ts";
export { createIdentity, identityFromKeys } from "./identity.ts";
export type { PaymentClient, PaymentClientInput } from "./payments.ts";
export { toPaymentClient } from "./payments.ts";
export { checkAnswerProof, checkJobReceipt } from "./receipt-check.ts";
export { ComputeRouter, outputText } from "./router.ts";
export { parseSse } from "./sse.ts";
export type { TrustedProviders, TrustPairingCode } from "./trust-api.ts";
export type * from "./types.ts";
