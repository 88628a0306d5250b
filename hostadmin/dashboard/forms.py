"""Dashboard forms."""
from flask_wtf import FlaskForm
from wtforms import StringField
from wtforms.validators import DataRequired, Length

from hostadmin.text import clean_line


class CollectiveForm(FlaskForm):
    name = StringField("Collective name", filters=[clean_line], validators=[
        DataRequired(message="Give the collective a name."), Length(max=200)])
