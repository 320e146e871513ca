"""`python -m local demo` (make demo) or `python -m local serve` (make serve)."""

from __future__ import annotations

import argparse
import threading
import time

from local.stack import ROOT, EmulatedStack

LOCAL_STATE = ROOT / ".local-state"  # git-ignored; the ledger lands in .local-state/ledger/dt=YYYY-MM-DD/


def demo() -> None:
    from local.demo import play  # noqa: PLC0415
    from local.predictive_demo import train_and_deploy  # noqa: PLC0415

    # ---- predictive scoring (helper "pwire"): the default model's predictive model, served beside the rules ----
    print("Training the default model's predictive model (`leadscore train`'s code) to serve beside the rules…")
    artefact, models_dir = train_and_deploy(LOCAL_STATE)
    started = time.perf_counter()
    print("Starting emulated AWS and creating the resources template.yaml declares…")
    stack = EmulatedStack(log_level="ERROR", ledger_dir=LOCAL_STATE, models_dir=models_dir)
    try:
        gateway = stack.serve(port=3000)
        print(f"  ready in {time.perf_counter() - started:.1f}s; webhooks served on {gateway.url}")
        play(stack)
    finally:
        stack.stop()
    # ---- evaluation (the eval helper's section): is the default model any good? ----
    from local.demo import _section  # noqa: PLC0415
    from local.evaluation_demo import evaluate_population  # noqa: PLC0415

    _section("Is the model any good? `leadscore evaluate` on a simulated population with known outcomes")
    evaluate_population(state=LOCAL_STATE, predictive=artefact is not None, artefact=artefact)


def serve(port: int) -> None:
    stack = EmulatedStack(ledger_dir=LOCAL_STATE)
    gateway = stack.serve(port=port)
    stop = threading.Event()
    for poller in stack.pollers:
        threading.Thread(target=poller.run_forever, args=(stop,), daemon=True).start()
    routes = ", ".join(f"{route.method} {route.path}" for route in stack.template.routes())
    print(f"leadscore is running on {gateway.url} ({routes}); the scorer polls the queue continuously.")
    print(f"Forms signing key: {stack.forms_key()}")
    for logical_id in sorted(stack.template.of_type("AWS::SecretsManager::Secret")):
        if logical_id.endswith("WebhookSecret") and logical_id != "FormsWebhookSecret":
            provider = logical_id.removesuffix("WebhookSecret")
            print(f"  {provider} secret ('current'): {stack.secret(logical_id)['current']}")
    print("  (SendGrid verifies with a public key: put yours with stack.set_secret, as the demo does.)")
    print("Sign and send a submission as README.md 'Sending a webhook' shows. Ctrl-C stops.")
    serve_website(stack, gateway.url)
    serve_leads_console(stack, gateway.url)
    try:
        while True:
            time.sleep(5)
            for alert in stack.alerts():
                print(f"\n[sales alert] {alert['subject']}\n{alert['message']}\n")
    except KeyboardInterrupt:
        pass
    finally:
        stop.set()
        stack.stop()


SITE_PORT = 8000


def serve_website(stack: EmulatedStack, api_url: str) -> None:
    """Website: local/site with the snippet, pointed at this stack's /track (local/website.py)."""
    from local.demo import sign  # noqa: PLC0415
    from local.website import start_site  # noqa: PLC0415

    url = start_site(stack, f"{api_url}/track", SITE_PORT, sign)
    token_key = stack.secret("LeadTokenSecret")["current"]
    print(f"Test website (tracker on every page): {url}  — its form is forwarded, signed, to /webhooks/forms.")
    print(f"  ls_t tokens are signed with LeadTokenSecret 'current': {token_key}")


def serve_leads_console(stack: EmulatedStack, api_url: str) -> None:
    """Leads API and console: a bearer token from the local issuer (all three scopes, 12 hours)."""
    token = stack.issuer.mint()
    print(f"Leads console: {api_url}/console/  (signs in with a local token by itself)")
    print(f"  Leads API bearer token (leads:read leads:feedback leads:erase, 12 h; issuer {stack.issuer.issuer}):")
    print(f"  {token}")
    print(f'  curl -H "Authorization: Bearer $TOKEN" "{api_url}/leads?model=default"')
    print(f"  CLI: export LEADSCORE_API={api_url} LEADSCORE_TOKEN=<the token>; leadscore hot; leadscore lead EMAIL")


def main() -> None:
    parser = argparse.ArgumentParser(prog="python -m local", description=__doc__)
    commands = parser.add_subparsers(dest="command", required=True)
    commands.add_parser("demo", help="play the scripted scenario and print the leaderboard and alerts")
    serving = commands.add_parser("serve", help="keep the stack running for curl")
    serving.add_argument("--port", type=int, default=3000)
    commands.add_parser("openapi", help="regenerate docs/openapi.json from the leads API's resolver")
    minting = commands.add_parser("mint-token", help="an ls_t email-link token for a lead of a deployed stack")
    minting.add_argument("--email", required=True)
    minting.add_argument("--pepper-secret", required=True, help="LeadIdPepperSecret's ARN (stack output/resource)")
    minting.add_argument("--token-secret", required=True, help="LeadTokenSecretArn (stack output)")
    minting.add_argument("--days", type=int, default=30)
    arguments = parser.parse_args()
    if arguments.command == "demo":
        demo()
    elif arguments.command == "openapi":
        from local.openapi import write  # noqa: PLC0415

        write()
    elif arguments.command == "mint-token":
        from local.website import mint_token  # noqa: PLC0415

        print(mint_token(arguments.email, pepper_secret=arguments.pepper_secret,
                         token_secret=arguments.token_secret, days=arguments.days))  # fmt: skip
    else:
        serve(arguments.port)


if __name__ == "__main__":
    main()
