import { create } from "@bufbuild/protobuf";
import { timestampFromDate } from "@bufbuild/protobuf/wkt";
import type { Account, AccountCredentials, AccountStatus, CredentialName, Provider } from "../../../domain/account.js";
import {
  AccountSchema,
  AccountStatus as PbAccountStatus,
  Provider as PbProvider,
  type Account as PbAccount,
  type AccountCredentials as PbAccountCredentials,
} from "../../../../gen/whatsapp/v1/account_pb.js";

const PROVIDER_TO_PB: Record<Provider, PbProvider> = {
  meta: PbProvider.META,
  twilio: PbProvider.TWILIO,
  sandbox: PbProvider.SANDBOX,
};

const STATUS_TO_PB: Record<AccountStatus, PbAccountStatus> = {
  active: PbAccountStatus.ACTIVE,
  degraded: PbAccountStatus.DEGRADED,
  disabled: PbAccountStatus.DISABLED,
};

/** Credential names as the API spells them (`credentials_set`). */
const CREDENTIAL_API_NAME: Record<CredentialName, string> = {
  accessToken: "access_token",
  appSecret: "app_secret",
  verifyToken: "verify_token",
  twilioAccountSid: "twilio_account_sid",
  twilioAuthToken: "twilio_auth_token",
  twilioMessagingServiceSid: "twilio_messaging_service_sid",
};

function invert<K extends string, V extends string | number>(record: Record<K, V>): Map<V, K> {
  return new Map(Object.entries(record).map(([k, v]) => [v as V, k as K]));
}
const PROVIDER_FROM_PB = invert(PROVIDER_TO_PB);
const STATUS_FROM_PB = invert(STATUS_TO_PB);

/** Validation has already refused UNSPECIFIED on create; undefined means "not given". */
export function providerFromPb(provider: PbProvider): Provider | undefined {
  return PROVIDER_FROM_PB.get(provider);
}

export function statusFromPb(status: PbAccountStatus): AccountStatus | undefined {
  return STATUS_FROM_PB.get(status);
}

/** Empty strings are proto3's "not set": they never overwrite a stored secret. */
export function credentialsFromPb(credentials: PbAccountCredentials | undefined): AccountCredentials {
  const result: AccountCredentials = {};
  if (!credentials) return result;
  if (credentials.accessToken) result.accessToken = credentials.accessToken;
  if (credentials.appSecret) result.appSecret = credentials.appSecret;
  if (credentials.verifyToken) result.verifyToken = credentials.verifyToken;
  if (credentials.twilioAccountSid) result.twilioAccountSid = credentials.twilioAccountSid;
  if (credentials.twilioAuthToken) result.twilioAuthToken = credentials.twilioAuthToken;
  if (credentials.twilioMessagingServiceSid) result.twilioMessagingServiceSid = credentials.twilioMessagingServiceSid;
  return result;
}

/** The API view of an account. Credentials are write-only: only their names go out. */
export function accountToPb(account: Account): PbAccount {
  return create(AccountSchema, {
    id: account.id,
    tenantId: account.tenantId,
    provider: PROVIDER_TO_PB[account.provider],
    displayName: account.displayName,
    phoneNumberId: account.phoneNumberId,
    wabaId: account.wabaId,
    displayPhoneNumber: account.displayPhoneNumber,
    businessId: account.businessId,
    rateLimitPerSecond: account.rateLimitPerSecond,
    status: STATUS_TO_PB[account.status],
    credentialsSet: account.credentialsSet.map((name) => CREDENTIAL_API_NAME[name]),
    metadata: { ...account.metadata },
    createTime: timestampFromDate(account.createTime),
    updateTime: timestampFromDate(account.updateTime),
    deleteTime: account.deleteTime ? timestampFromDate(account.deleteTime) : undefined,
  });
}
