/**
 * mulberry32 from the DHT core (one copy of the generator): the same sequence on every
 * machine, so a test that shuffles or simulates with it reproduces from its seed.
 */
export { seededRandom } from "@omnigate/dht";
