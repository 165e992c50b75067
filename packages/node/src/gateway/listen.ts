export { listenOn } from "@omnigate/sdk";
