"""The notification texts written per language (django-modeltranslation adds their columns)."""

from modeltranslation.translator import TranslationOptions, register

from campaigns.models import TEXT_FIELDS, Notification


@register(Notification)
class NotificationTranslation(TranslationOptions):
    fields = TEXT_FIELDS
    required_languages = ()
