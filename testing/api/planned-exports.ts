/**
 * Each package's public API, name by name (`type:X` for a type): what a user may import from
 * the package's "." entry (and the SDK's browser build). A name added to or gone from an entry
 * fails the test until it is planned here; the parts only the node and the tests need go
 * through the package's `./internal` entry instead.
 */
export const PLANNED_EXPORTS: Record<string, string> = {
  // @omnigate/sdk (Node)
  "packages/sdk/src/index.ts": `
    addressOf type:AppHandler type:AppReply type:AppServer backoffMs type:Blake3 type:BodyOptions
    CA_FILE_ENV type:CallOptions CAP_ENV type:CapProvider CLIENT_DEFAULTS type:ClientEventName
    type:ClientEvents type:ClientReason connect type:ConnectionErrorOptions type:ConnectOptions
    createBlake3 createClient DATA_DIR_ENV type:DeadLetterMessage DEFAULT_NODE_URL DEFAULT_PORT
    DEFAULT_WS_PORT defaultDataDir type:Environment type:GetOptions
    type:IncomingRequest isStorageAddress type:LeaseCallOptions type:Logger type:MailboxCallOptions
    MailboxClient MailboxMessage NODE_URL_ENV nodeDataDir type:NodeAddress type:NodeTransport
    normalizeFingerprint OapAbortError OapClient OapClientError OapConnectionError type:OapEvent
    OapProtocolError OapRequestError type:OapResponse OapStream OapTimeoutError type:ObjectHead
    type:ObjectInfo parseNodeUrl type:PutOptions type:PutResult type:RecvOptions type:ReplyOptions
    type:RequestOptions type:ResponseHead type:ResponseWriter type:RetryPolicy type:SendOptions
    type:SendResult serve type:ServeOptions type:SessionLimits type:ShapingOptions type:StorageAddress
    type:StorageCallOptions StorageChunkError StorageClient StorageIntegrityError StorageReader type:StreamOptions
    type:SubscribeOptions toCapBytes
  `,
  // @omnigate/sdk (browser)
  "packages/sdk/src/browser.ts": `
    addressOf backoffMs type:Blake3 type:BrowserConnectOptions type:CallOptions type:CapProvider
    CLIENT_DEFAULTS type:ClientEventName type:ClientEvents type:ClientReason connect
    type:ConnectionErrorOptions type:ConnectOptions createBlake3 createClient type:DeadLetterMessage
    DEFAULT_WS_PORT type:GetOptions isStorageAddress type:LeaseCallOptions type:Logger
    type:MailboxCallOptions MailboxClient MailboxMessage type:NodeAddress OapAbortError OapClient
    OapClientError OapConnectionError type:OapEvent OapProtocolError OapRequestError
    type:OapResponse OapStream OapTimeoutError type:ObjectHead type:ObjectInfo parseNodeUrl
    type:PlatformWebSocket type:PlatformWebSocketConstructor type:PutOptions type:PutResult
    type:RecvOptions type:RequestOptions type:ResponseHead type:RetryPolicy type:SendOptions
    type:SendResult type:ShapingOptions type:StorageAddress type:StorageCallOptions StorageClient
    StorageChunkError StorageIntegrityError StorageReader type:StreamOptions type:SubscribeOptions toCapBytes
    type:WebSocketEventLike type:WebSocketEventType
  `,
  // @omnigate/oap
  "packages/oap/src/index.ts": `
    AppProtoId AppProtoRange BoundedInflater bucketLength type:CompLimits compressBody decodeFrame
    decodeStartPayload DEFAULT_HEADER_LIMITS DEFAULT_INFLATE_LIMITS DEFAULT_MAX_CAP_LEN
    DEFAULT_MAX_FRAME DEFAULT_MAX_INFLIGHT encodeFrame encodeMeta encodeStartPayload type:ErrorMeta
    type:FlagName flagNames Flags FLAGS_SUPPORTED formatAppProtoId type:Frame FrameDecoder
    type:FrameHeader FrameHeaderError type:FrameInit HEADER_LEN type:HeaderLimits
    type:HelloCapResult type:HelloReply type:HelloRequest type:HelloService type:HelloShaping
    type:InflateLimits encodePadFrame isHelloReply isPadFrame isReason isRetryableCode MAX_META_LEN
    type:Meta OAP_VERSION OapError PAD_FRAME_MIN PAD_META type:PaddingScheme padFrameLengths
    paddedBurstLength padmeBucket parseMeta POW2_MIN_BUCKET pow2Bucket type:Reason REASONS
    type:RevokedEvent type:StartPayload STATUS_CODES type:StatusCode WS_PATH WS_SUBPROTOCOL
  `,
  // @omnigate/caps
  "packages/caps/src/index.ts": `
    attenuateToken type:CapContext CapError type:CapRefusal CapVerifier type:Caveat type:CaveatRule
    decodeIdentifier decodeToken decodeV2 DEFAULT_SKEW_SECONDS deriveKey encodeToken encodeV2
    formatAppId formatCaveat formatTenant fromJsonV2 inspectToken type:KeySource type:Macaroon
    type:MacaroonJsonV2 MAX_CAVEATS MAX_TOKEN_BYTES type:MintOptions mintToken parseAppId
    parseCaveat parseTenant type:RevocationCheck toJsonV2 type:TokenIdentifier type:TokenInspection
    type:VerifiedCap type:VerifierOptions
  `,
  // @omnigate/registry
  "packages/registry/src/index.ts": `
    canonicalJson checkEntries describeEntry describeRange ENTRY_STATUSES entryRef type:EntryRef
    entrySigningBytes type:EntryStatus FIELD_RULES findDuplicateKeys formatAppProtoId formatProblem
    generateOwnerKeyPair idRange type:IdRange type:IndexedEntry isCalendarDate KEY_ID_PATTERN
    keyPairMatches type:Keyring type:LoadedRegistry loadKeyring loadRegistry openRegistry
    parseAppProtoId parseRegistry type:ProblemKind PROJECT_KEY_PREFIX PUBLIC_KEY_SUFFIX
    publicKeyFingerprint readPrivateKey readPublicKey type:Registry REGISTRY_SCHEMA
    type:RegistryDocument type:RegistryEntry RegistryError type:RegistryProblem type:RegistryReport
    SCHEMA_FILE_NAME type:SchemaViolation signEntry validateRegistryDocument verifyEntrySignature
    type:VerifyOptions verifyRegistry
  `,
  // @omnigate/node
  "packages/node/src/index.ts": `
    type:AdmissionSnapshot type:AppInput type:AppSettings type:AppStatsSnapshot CONFIG_SCHEMA
    type:ConfigEntry ConfigError type:ConfigKey type:ConfigValues createLogger defaultDataDir fingerprint FsEngine
    type:KernelBus type:KernelEvent loadConfig type:LoadedConfig type:LoadOptions loadTlsMaterial
    type:Logger type:ManagedService MemoryEngine type:MetricsSnapshot NODE_RUNTIME_FLAGS type:NodeConfig
    type:NodeMetrics type:ObjectReader type:OmnigateNode type:PendingObject type:QuotaRules
    type:RateRule type:ServiceContext type:ServiceHealth type:ServiceState startNode
    type:StartOptions type:StorageEngine type:Subscription type:TenantOverride type:TlsMaterial
  `,
  // @omnigate/ronctl
  "packages/ronctl/src/index.ts": `
    createProgram
  `,
  // @omnigate/dht
  "packages/dht/src/index.ts": `
    bucketIndex type:Contact type:ContactRtt type:DhtClock type:DhtId DhtNode type:DhtNodeOptions
    type:DhtNodeStats DhtRefusal type:DhtRefusalReason type:DhtTransport distanceCompare
    type:FindProvidersAnswer type:FindProvidersOptions type:FindProvidersResult ID_BITS ID_BYTES
    idEquals idFromHex idKey idToHex isDhtId iterativeLookup type:LookupEvent type:LookupOutcome
    type:LookupParams type:MaintenanceReport type:ProviderRecord ProviderStore
    type:ProviderStoreOptions type:ProviderStoreStats type:QueryAnswer randomId randomIdInBucket
    RoutingTable type:RoutingTableOptions RttEstimator seededRandom shortId type:TimeoutPolicy
    type:UpdateResult xorDistance
  `,
  // @omnigate/ledger
  "packages/ledger/src/index.ts": `
    BULLETPROOFS_G_DST BULLETPROOFS_H_DST bulletproofGenerators bulletproofsRistretto255 commit
    createSettlement generateNodeKey LedgerProofError type:LedgerRejectReason MAX_AGGREGATED
    type:NodeKey nodeKeyFromPem nodeKeyToPem ORDER PARAMETERS_VERSION PEDERSEN_DST
    type:PedersenGenerators pedersenGenerators type:Point proveRange proveSum proveUsage
    RANGE_BITS randomScalar rangeProofBytes recordIdOf SettlementError type:SettlementInput
    type:SettlementRecord type:SettlementRejectReason signingBytes SUM_PROOF_BYTES Transcript
    type:UsageCommitment type:UsageOpening type:VerifiedSettlement type:VerifiedUsage
    verifyRange verifySettlement verifySum verifyUsage type:ZkProver type:ZkVerifier
  `,
};
