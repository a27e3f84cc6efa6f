#!/usr/bin/env python3
"""Peer of `tap-runbook run` written with the Microsoft Graph SDK for Python.

The same Graph workflow as `tap-runbook run` with NotifyUser, for the benchmark in
bench/peer/run (not a replacement for tap-runbook: no input validation, retries policy,
localisation, branding, or output contract):

  1. token: azure-identity's async ManagedIdentityCredential (reads IDENTITY_ENDPOINT and
     IDENTITY_HEADER, App Service 2019-08-01 protocol);
  2. preflight, the three GETs concurrently with asyncio.gather: the user ($select of the
     fields tap-runbook reads), the Temporary Access Pass policy, the user's existing passes;
  3. DELETE each existing pass;
  4. POST a new pass (lifetimeInMinutes 240, isUsableOnce true);
  5. POST sendMail from the sender to the user with a small HTML body.

Graph base URL: $TAP_RUNBOOK_GRAPH_URL + "/v1.0" (the simulator's), set on the SDK's request
adapter. The SDK's own authentication provider (kiota AzureIdentityAuthenticationProvider) is
used unchanged: it accepts plain http for 127.0.0.1 and its allowed-hosts list is empty
(= any host). The scope is given explicitly (https://graph.microsoft.com/.default), because
kiota would otherwise derive it from the request host. The default middleware stays in place
(retry, redirect, telemetry, ...); the simulator injects no faults, so nothing is retried.

Prints one JSON line {"status": "Completed", ...} and exits 0, or prints the error and exits 1.
"""

import argparse
import asyncio
import json
import os
import sys
from datetime import datetime, timezone

from azure.identity.aio import ManagedIdentityCredential
from kiota_abstractions.base_request_configuration import RequestConfiguration
from msgraph import GraphServiceClient
from msgraph.generated.models.body_type import BodyType
from msgraph.generated.models.email_address import EmailAddress
from msgraph.generated.models.item_body import ItemBody
from msgraph.generated.models.message import Message
from msgraph.generated.models.recipient import Recipient
from msgraph.generated.models.temporary_access_pass_authentication_method import (
    TemporaryAccessPassAuthenticationMethod,
)
from msgraph.generated.users.item.send_mail.send_mail_post_request_body import (
    SendMailPostRequestBody,
)
from msgraph.generated.users.item.user_item_request_builder import UserItemRequestBuilder



SCOPE = "https://graph.microsoft.com/.default"
USER_SELECT = ["id", "userPrincipalName", "mail", "usageLocation", "preferredLanguage",
               "userType", "displayName"]
LIFETIME_MINUTES = 240


async def workflow(user_name, sender, graph_url):
    async with ManagedIdentityCredential() as credential:
        client = GraphServiceClient(credentials=credential, scopes=[SCOPE])
        client.request_adapter.base_url = graph_url.rstrip("/") + "/v1.0"

        # 1. token (cached by the credential; the Graph calls below reuse it)
        await credential.get_token(SCOPE)

        # 2. preflight: three reads in parallel
        user_rb = client.users.by_user_id(user_name)
        user_cfg = RequestConfiguration(
            query_parameters=UserItemRequestBuilder.UserItemRequestBuilderGetQueryParameters(
                select=USER_SELECT))
        policy_rb = (client.policies.authentication_methods_policy
                     .authentication_method_configurations
                     .by_authentication_method_configuration_id("TemporaryAccessPass"))
        user, policy, existing = await asyncio.gather(
            user_rb.get(request_configuration=user_cfg),
            policy_rb.get(),
            user_rb.authentication.temporary_access_pass_methods.get(),
        )
        if user is None or not user.id:
            raise RuntimeError("user not found")
        state = getattr(policy, "state", None)
        if state is not None and getattr(state, "value", state) != "enabled":
            raise RuntimeError("Temporary Access Pass policy is not enabled")
        recipient = user.mail or user.user_principal_name

        # 3. delete the existing passes (a user has at most one)
        methods = client.users.by_user_id(user.id).authentication.temporary_access_pass_methods
        for m in (existing.value if existing and existing.value else []):
            await methods.by_temporary_access_pass_authentication_method_id(m.id).delete()

        # 4. create
        created = await methods.post(TemporaryAccessPassAuthenticationMethod(
            lifetime_in_minutes=LIFETIME_MINUTES, is_usable_once=True))
        if created is None or not created.temporary_access_pass:
            raise RuntimeError("create returned no pass")

        # 5. notify the user
        until = created.start_date_time or datetime.now(timezone.utc)
        html = (f"<html><body><p>Hello {user.display_name or recipient},</p>"
                f"<p>Your Temporary Access Pass: <b>{created.temporary_access_pass}</b></p>"
                f"<p>It is valid for {created.lifetime_in_minutes or LIFETIME_MINUTES} minutes "
                f"from {until.isoformat()} and can be used once.</p>"
                f"<p>IT Service</p></body></html>")
        mail = SendMailPostRequestBody(
            message=Message(
                subject="Your Temporary Access Pass",
                body=ItemBody(content_type=BodyType.Html, content=html),
                to_recipients=[Recipient(email_address=EmailAddress(address=recipient))],
            ),
            save_to_sent_items=False,
        )
        await client.users.by_user_id(sender).send_mail.post(mail)
        return {"status": "Completed", "userId": user.id, "methodId": created.id,
                "deleted": len(existing.value or []) if existing else 0, "notified": recipient}


def main():
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--user", default="adele.vance@contoso.com")
    ap.add_argument("--sender", default="it-service@contoso.com")
    a = ap.parse_args()
    graph_url = os.environ.get("TAP_RUNBOOK_GRAPH_URL", "https://graph.microsoft.com")
    try:
        result = asyncio.run(workflow(a.user, a.sender, graph_url))
    except Exception as e:  # report and fail, like a job would
        print(json.dumps({"status": "Failed", "error": f"{type(e).__name__}: {e}"}))
        return 1
    print(json.dumps(result))
    return 0


if __name__ == "__main__":
    sys.exit(main())
