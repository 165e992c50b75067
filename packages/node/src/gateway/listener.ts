// The OAP/1-over-TLS listener lives in the SDK so app backends (serve()) run the very same one.
export { type ConnectionGate, type ListenerOptions, OapListener as GatewayListener } from "@omnigate/sdk";
