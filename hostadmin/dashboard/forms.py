"""Dashboard forms."""
from flask_wtf import FlaskForm
from wtforms import StringField
from wtforms.validators import DataRequired, Length


class CollectiveForm(FlaskForm):
    name = StringField("Collective name", validators=[
        DataRequired(message="Give the collective a name."), Length(max=200)])
