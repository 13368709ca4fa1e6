"""Create the demo accounts (office staff, leader, liaisons, administrator) if missing."""

from __future__ import annotations

from django.contrib.auth import get_user_model
from django.contrib.auth.models import Group
from django.core.management.base import BaseCommand

from plans.models import Department, Liaison
from plans.roles import Role

# (username, password, role, (jurisdiction, department) for liaisons, display name)
DEMO_ACCOUNTS = [
    ("office", "office-demo-2026", Role.OFFICE, None, "民政局办公室"),
    ("leader", "leader-demo-2026", Role.LEADER, None, "督查室"),
    ("liaison", "liaison-demo-2026", Role.LIAISON, ("柳城县", "县民政局"), "民政局联络员"),
    ("liaison2", "liaison-demo-2026", Role.LIAISON, ("柳城县", "县卫生计生局"), "卫计局联络员"),
]
DEMO_EMAIL_DOMAIN = "example.gov.cn"  # reminders go to the console unless e-mail is set up
ADMIN_ACCOUNT = ("admin", "admin-demo-2026")


class Command(BaseCommand):
    help = "Create the demo accounts (idempotent; existing passwords are left alone)."

    def handle(self, *args, **options):
        User = get_user_model()
        groups = {role: Group.objects.get_or_create(name=role.value)[0] for role in Role}
        for username, password, role, department, name in DEMO_ACCOUNTS:
            user, created = User.objects.get_or_create(
                username=username,
                defaults={"first_name": name, "email": f"{username}@{DEMO_EMAIL_DOMAIN}"},
            )
            if created:
                user.set_password(password)
                user.save(update_fields=["password"])
            user.groups.add(groups[role])
            if department is not None:
                jurisdiction, dept_name = department
                dept = Department.objects.filter(
                    jurisdiction__name=jurisdiction, name=dept_name
                ).first()
                if dept is None:
                    self.stderr.write(f"{username}: no department {jurisdiction} {dept_name}")
                    continue
                Liaison.objects.update_or_create(user=user, defaults={"department": dept})
        username, password = ADMIN_ACCOUNT
        if not User.objects.filter(username=username).exists():
            User.objects.create_superuser(username, password=password)
        self.stdout.write("demo accounts ready: " + ", ".join(a[0] for a in DEMO_ACCOUNTS))
