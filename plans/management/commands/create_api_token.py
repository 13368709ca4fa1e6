"""Issue an API token for another system and print its key, the only time it is ever shown."""

from __future__ import annotations

from django.contrib.auth import get_user_model
from django.core.management.base import BaseCommand, CommandError

from plans.models import ApiToken


class Command(BaseCommand):
    help = (
        "Create an API token that reads as USERNAME and print its key once "
        "(only a hash is stored; a lost key cannot be recovered, issue a new one)."
    )

    def add_arguments(self, parser):
        parser.add_argument("username", help="the account the token reads as")
        parser.add_argument(
            "--name", required=True, help='who uses the token, e.g. "省智慧养老平台"'
        )

    def handle(self, *args, username: str, name: str, **options):
        name = name.strip()
        if not name:
            raise CommandError("--name must not be empty")
        try:
            user = get_user_model().objects.get_by_natural_key(username)
        except get_user_model().DoesNotExist:
            raise CommandError(f"no user {username!r}") from None
        if not user.is_active:
            raise CommandError(f"user {username!r} is not active")
        token, key = ApiToken.objects.issue(user=user, name=name)
        # The key alone goes to stdout, so a script can capture it; the notice to stderr.
        self.stderr.write(
            f"Token {token.pk} “{name}” for {username}. Store the key now: it is not kept "
            "and will not be shown again. Send it as the header Authorization: Bearer <key>."
        )
        self.stdout.write(key)
